/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`) over NCHW tensors.
///
/// - Parameters:
///   - input: `[batch, inChannels, height, width]`.
///   - weight: `[outChannels, inChannels, kernelHeight, kernelWidth]`.
///   - bias: `[outChannels]`, or `nil` for none.
///   - stride: step between windows, in input pixels (both axes).
///   - padding: zeros added on every side, in pixels (both axes).
/// - Returns: `[batch, outChannels, (height + 2·padding − kernelHeight) / stride + 1, …width…]`.
/// - Precondition: ranks and channel counts agree, the padded input is at least one kernel
///   large, `stride >= 1`, `padding >= 0`.
///
/// Differentiable in all three inputs. 3×3 stride-1 padding-1 layers run as Winograd F(2×2, 3×3)
/// (on large maps with the AVX-512 or AVX2 kernels, their input gradients as F(4×4, 3×3), and
/// at float32 their weight gradients on 4×4 tiles too),
/// the others as im2col + SGEMM (TensorKit's AVX-512 kernel, or OpenBLAS), with the images of the
/// batch spread over the cores (several small images per GEMM); 1×1 stride-1 convolutions skip
/// im2col entirely.
public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2d(input, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
}

/// ``conv2d(_:weight:bias:stride:padding:)-(_,_,_,Int,_)`` with separate (height, width) stride and padding.
public func conv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
    stride: (Int, Int), padding: (Int, Int)
) -> Tensor {
    conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, collectingMoments: false).output
}

/// The same, and with `collectingMoments` the output's ``ChannelMoments`` where the convolution
/// adds them up as it stores the output (Winograd with the float32 AVX2 transforms: the 3×3,
/// stride-1 layers), else `nil`.
package func conv2d(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
    stride: (Int, Int), padding: (Int, Int), collectingMoments: Bool
) -> (output: Tensor, moments: ChannelMoments?) {
    precondition(input.rank == 4, "TensorKit.conv2d: input must be [N, C, H, W], got shape \(input.shape)")
    precondition(weight.rank == 4, "TensorKit.conv2d: weight must be [O, C, kH, kW], got shape \(weight.shape)")
    precondition(
        input.shape[1] == weight.shape[1],
        "TensorKit.conv2d: input shape \(input.shape) has \(input.shape[1]) channels, weight shape \(weight.shape) expects \(weight.shape[1])"
    )
    precondition(
        stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
        "TensorKit.conv2d: stride \(stride) must be >= 1 and padding \(padding) >= 0")
    if let bias {
        precondition(
            bias.shape == [weight.shape[0]],
            "TensorKit.conv2d: bias shape \(bias.shape) does not match \(weight.shape[0]) output channels")
    }
    let g = ConvGeometry(
        batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
        outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
        strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
    precondition(
        input.shape[2] + 2 * padding.0 >= weight.shape[2] && input.shape[3] + 2 * padding.1 >= weight.shape[3],
        "TensorKit.conv2d: padded input \(input.shape) is smaller than the kernel \(weight.shape)")
    let y = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
    var moments: ChannelMoments? = nil
    if collectingMoments {
        let perImage = UnsafeMutablePointer<Double>.allocate(capacity: 2 * g.batch * g.outChannels)
        defer { perImage.deallocate() }
        if ConvKernels.forward(x: input.pointer, w: weight.pointer, bias: bias?.pointer, g, y: y.pointer, moments: perImage) {
            moments = ChannelMoments(perImage: perImage, images: g.batch, channels: g.outChannels, plane: g.plane)
        }
    } else {
        ConvKernels.forward(x: input.pointer, w: weight.pointer, bias: bias?.pointer, g, y: y.pointer)
    }
    let x = input.detached, w = weight.detached
    let needX = input.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
    var inputs = [input, weight]
    if let bias { inputs.append(bias) }
    // By geometry when profiling (as FoldedConv2d's labels): which layer the time goes to.
    let op =
        OpProfiler.isEnabled
        ? "conv2d \(g.kernelH)x\(g.kernelW)/\(stride.0) \(g.inChannels)->\(g.outChannels) \(g.outHeight)x\(g.outWidth)"
        : "conv2d"
    let output = Tensor.record(op, y, inputs: inputs) { gy in
        let dx: Tensor? = needX ? Tensor(uninitializedShape: x.shape) : nil
        let dw: Tensor? = needW ? Tensor(uninitializedShape: w.shape) : nil
        ConvKernels.backward(gy: gy.pointer, x: x.pointer, w: w.pointer, g, dx: dx?.pointer, dw: dw?.pointer)
        var db: Tensor? = nil
        if needB {
            let b = Tensor(uninitializedShape: [g.outChannels])
            ConvKernels.biasGrad(gy.pointer, g, into: b.pointer)
            db = b
        }
        return [dx, dw, db]
    }
    return (output, moments)
}

/// Forward and backward kernels of ``conv2d(_:weight:bias:stride:padding:)-(_,_,_,Int,_)``.
enum ConvKernels {
    /// Minimum GEMM columns per call: images with smaller output planes are unfolded side by
    /// side so that one GEMM covers several (OpenBLAS packs the weights once per call, and its
    /// kernels are inefficient on narrow matrices). Frozen filters (prepared once) take
    /// ``KernelConfiguration/convolutionColumns`` (`TENSORKIT_CONV_COLUMNS`); filters that
    /// change on every call (training) and the backward pass take at most
    /// ``KernelConfiguration/trainingConvolutionColumns``.
    static func targetColumns(frozen: Bool) -> Int {
        let configuration = KernelConfiguration.current
        return frozen
            ? configuration.convolutionColumns
            : min(configuration.convolutionColumns, configuration.trainingConvolutionColumns)
    }

    static func groupSize(_ g: ConvGeometry, imagesPerWorker: Int, frozen: Bool) -> Int {
        let p = max(g.plane, 1), target = targetColumns(frozen: frozen)
        if p >= target { return 1 }
        return max(1, min(imagesPerWorker, (target + p - 1) / p))
    }

    /// `y = conv(x, w) + bias`, then `epilogue`; all NCHW, `y` uninitialised on entry. With
    /// `moments` (`2 · batch · outChannels` doubles), each image's and channel's sum and sum of
    /// squares of `y` where the convolution's output transform can add them up as it stores `y`
    /// (``Winograd/convolve(_:batch:inChannels:height:width:u:outChannels:bias:into:epilogue:moments:)``);
    /// returns whether it did.
    @discardableResult
    static func forward(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ g: ConvGeometry, y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue = ConvEpilogue(),
        moments: UnsafeMutablePointer<Double>? = nil
    ) -> Bool {
        forward(x: x, plain: w, prepared: nil, bias: bias, g, y: y, epilogue: epilogue, moments: moments)
    }

    /// The same with frozen filters held by `prepared` in the forms made once (Winograd
    /// transform, packed GEMM operand) instead of on every call; the plain filters are asked
    /// for only where no prepared form applies.
    static func forward(
        x: UnsafePointer<Float>, prepared: PreparedConvWeights, bias: UnsafePointer<Float>?,
        _ g: ConvGeometry, y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue
    ) {
        forward(x: x, plain: nil, prepared: prepared, bias: bias, g, y: y, epilogue: epilogue, moments: nil)
    }

    @discardableResult
    private static func forward(
        x: UnsafePointer<Float>, plain: UnsafePointer<Float>?, prepared: PreparedConvWeights?,
        bias: UnsafePointer<Float>?, _ g: ConvGeometry, y: UnsafeMutablePointer<Float>,
        epilogue: ConvEpilogue, moments: UnsafeMutablePointer<Double>?
    ) -> Bool {
        if Winograd.applies(g, weightsPrepared: prepared != nil) {
            let large =
                prepared != nil
                ? (Winograd.usesLargeTiles(g) ? prepared?.winogradFilters4x4() : nil)
                : Winograd.usesLargeTilesForward(g)
                    ? Winograd.Filters.forCall4x4(
                        Winograd.transformWeights4x4(plain!, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: false),
                        rows: g.outChannels, cols: g.inChannels) : nil
            let u =
                large ?? prepared?.winogradFilters()
                ?? .forCall(
                    Winograd.transformWeights(plain!, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: false),
                    rows: g.outChannels, cols: g.inChannels, batch: g.batch)
            return Winograd.convolve(
                x, batch: g.batch, inChannels: g.inChannels, height: g.height, width: g.width,
                u: u, outChannels: g.outChannels, bias: bias, into: y, epilogue: epilogue, moments: moments)
        }
        let packed = prepared?.packedFilters()
        // `prepared` keeps the filters it hands out alive as long as itself.
        let w = packed != nil ? nil : plain ?? UnsafePointer(prepared!.filters().pointer)
        let blocks = Parallel.blockCount(g.batch)
        let inner = blocks == 1 && Parallel.workers > 1
        Parallel.blocks(g.batch, blocks: blocks) { _, lo, hi in
            forwardImages(
                lo, hi, x: x, w: w, packed: packed, frozen: prepared != nil, bias: bias, g, y: y, epilogue: epilogue,
                parallelInside: inner)
        }
        return false
    }

    /// `C = W · B` for the filters as a GEMM operand `W[O × k]`, packed or not (one of the two given).
    @inline(__always)
    private static func multiplyFilters(
        _ w: UnsafePointer<Float>?, packed: BLAS.PackedMatrix?, _ g: ConvGeometry, n: Int,
        b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, parallel: Bool
    ) {
        if let packed {
            BLAS.gemm(packed, .none, n: n, b: b, ldb: n, c: c, ldc: n, parallel: parallel)
        } else {
            BLAS.gemm(
                .none, .none, m: g.outChannels, n: n, k: g.patch, a: w!, lda: g.patch, b: b, ldb: n, c: c, ldc: n,
                parallel: parallel)
        }
    }

    private static func forwardImages(
        _ lo: Int, _ hi: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>?,
        packed: BLAS.PackedMatrix?, frozen: Bool, bias: UnsafePointer<Float>?, _ g: ConvGeometry,
        y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue, parallelInside inner: Bool
    ) {
        let k = g.patch, p = g.plane, o = g.outChannels, c = g.inChannels
        let imageIn = c * g.height * g.width, imageOut = o * p
        let gs = groupSize(g, imagesPerWorker: hi - lo, frozen: frozen)
        let col: TensorStorage? = (g.isPointwise && gs == 1) ? nil : TensorStorage(capacity: k * gs * p)
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(col) {} }
        let tmp: TensorStorage? = gs > 1 ? TensorStorage(capacity: o * gs * p) : nil
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(tmp) {} }
        var i = lo
        while i < hi {
            if gs == 1 {
                let b: UnsafePointer<Float>
                if let col {
                    unfold(x + i * imageIn, g, into: col.pointer, ld: p, parallel: inner)
                    b = UnsafePointer(col.pointer)
                } else {
                    b = x + i * imageIn
                }
                let yi = y + i * imageOut
                multiplyFilters(w, packed: packed, g, n: p, b: b, c: yi, parallel: inner)
                if bias != nil || !epilogue.isEmpty {
                    finish(y, image: i, bias: bias, channels: o, plane: p, epilogue: epilogue, parallel: inner)
                }
                i += 1
            } else {
                let n = min(gs, hi - i), ld = n * p
                let colp = col!.pointer, tmpp = tmp!.pointer
                for j in 0..<n {
                    let xi = x + (i + j) * imageIn
                    if g.isPointwise {
                        for ch in 0..<c { Short.copy(colp + ch * ld + j * p, xi + ch * p, count: p) }
                    } else {
                        Im2col.unfold(xi, g, into: colp + j * p, ld: ld, channels: 0, c)
                    }
                }
                multiplyFilters(w, packed: packed, g, n: ld, b: colp, c: tmpp, parallel: false)
                for j in 0..<n {
                    let yi = y + (i + j) * imageOut
                    for oc in 0..<o {
                        let src = tmpp + oc * ld + j * p, dst = yi + oc * p
                        if let bias {
                            let bv = bias[oc]
                            for q in 0..<p { dst[q] = src[q] + bv }
                        } else {
                            Short.copy(dst, src, count: p)
                        }
                    }
                    if !epilogue.isEmpty { epilogue.apply(y, offset: (i + j) * imageOut, count: imageOut) }
                }
                i += n
            }
        }
    }

    /// Gradients of the input (`dx`, `[N, C, H, W]`) and weight (`dw`, `[O, C, kH, kW]`) from
    /// the output gradient `gy`; either may be `nil` when not needed. Both are overwritten.
    static func backward(
        gy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        _ g: ConvGeometry, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) {
        if Winograd.applies(g) {
            if let dx {
                // The input gradient of a 3×3/1/1 convolution is the same convolution of `gy`
                // with flipped, transposed filters.
                let large =
                    Winograd.usesLargeTilesForInputGradient(g)
                    ? Winograd.Filters.forCall4x4(
                        Winograd.transformWeights4x4(w, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: true),
                        rows: g.inChannels, cols: g.outChannels) : nil
                let u =
                    large
                    ?? .forCall(
                        Winograd.transformWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, forInputGradient: true),
                        rows: g.inChannels, cols: g.outChannels, batch: g.batch)
                Winograd.convolve(
                    gy, batch: g.batch, inChannels: g.outChannels, height: g.height, width: g.width,
                    u: u, outChannels: g.inChannels, bias: nil, into: dx)
            }
            if let dw {
                Winograd.weightGradient(
                    x: x, gy: gy, batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels,
                    height: g.height, width: g.width, largeTiles: Winograd.usesLargeTilesForWeightGradient(g), into: dw)
            }
            return
        }
        let blocks = Parallel.blockCount(g.batch)
        let inner = blocks == 1 && Parallel.workers > 1
        let wCount = g.outChannels * g.patch
        // Block 0 accumulates straight into dw; the others into private buffers summed at the end.
        let partials: [TensorStorage] = dw == nil ? [] : (1..<max(blocks, 1)).map { _ in TensorStorage(capacity: wCount) }
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(partials) {} }
        Parallel.blocks(g.batch, blocks: blocks) { t, lo, hi in
            let dwt: UnsafeMutablePointer<Float>? = dw.map { t == 0 ? $0 : partials[t - 1].pointer }
            backwardImages(lo, hi, gy: gy, x: x, w: w, g, dx: dx, dw: dwt, parallelInside: inner)
        }
        if let dw {
            for part in partials { Kernels.addInPlace(dw, part.pointer, count: wCount) }
        }
    }

    private static func backwardImages(
        _ lo: Int, _ hi: Int, gy: UnsafePointer<Float>, x: UnsafePointer<Float>,
        w: UnsafePointer<Float>, _ g: ConvGeometry,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
        parallelInside inner: Bool
    ) {
        let k = g.patch, p = g.plane, o = g.outChannels, c = g.inChannels
        let imageIn = c * g.height * g.width, imageOut = o * p
        let gs = groupSize(g, imagesPerWorker: hi - lo, frozen: false)
        let direct = g.isPointwise && gs == 1
        let col: TensorStorage? = (dw != nil && !direct) ? TensorStorage(capacity: k * gs * p) : nil
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(col) {} }
        let dcol: TensorStorage? = (dx != nil && !direct) ? TensorStorage(capacity: k * gs * p) : nil
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(dcol) {} }
        let gyg: TensorStorage? = gs > 1 ? TensorStorage(capacity: o * gs * p) : nil
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(gyg) {} }
        var first = true
        var i = lo
        while i < hi {
            let n = min(gs, hi - i), ld = n * p
            let dy: UnsafePointer<Float>
            if let gyg {
                for j in 0..<n {
                    let src = gy + (i + j) * imageOut
                    for oc in 0..<o { Short.copy(gyg.pointer + oc * ld + j * p, src + oc * p, count: p) }
                }
                dy = UnsafePointer(gyg.pointer)
            } else {
                dy = gy + i * imageOut
            }
            if let dw {
                let xs: UnsafePointer<Float>
                if let col {
                    for j in 0..<n {
                        let xi = x + (i + j) * imageIn
                        if g.isPointwise {
                            for ch in 0..<c { Short.copy(col.pointer + ch * ld + j * p, xi + ch * p, count: p) }
                        } else if n == 1 {
                            unfold(xi, g, into: col.pointer, ld: ld, parallel: inner)
                        } else {
                            Im2col.unfold(xi, g, into: col.pointer + j * p, ld: ld, channels: 0, c)
                        }
                    }
                    xs = UnsafePointer(col.pointer)
                } else {
                    xs = x + i * imageIn
                }
                BLAS.gemm(
                    .none, .transposed, m: o, n: k, k: ld, a: dy, lda: ld, b: xs, ldb: ld,
                    beta: first ? 0 : 1, c: dw, ldc: k, parallel: inner)
            }
            if let dx {
                if direct {
                    BLAS.gemm(
                        .transposed, .none, m: k, n: p, k: o, a: w, lda: k, b: dy, ldb: p,
                        c: dx + i * imageIn, ldc: p, parallel: inner)
                } else {
                    let dc = dcol!.pointer
                    BLAS.gemm(
                        .transposed, .none, m: k, n: ld, k: o, a: w, lda: k, b: dy, ldb: ld,
                        c: dc, ldc: ld, parallel: inner)
                    for j in 0..<n {
                        let dxi = dx + (i + j) * imageIn
                        if g.isPointwise {
                            for ch in 0..<c { Short.copy(dxi + ch * p, dc + ch * ld + j * p, count: p) }
                        } else {
                            fold(UnsafePointer(dc + j * p), ld: ld, g, into: dxi, parallel: inner && n == 1)
                        }
                    }
                }
            }
            first = false
            i += n
        }
    }

    /// `db[o] = Σ_{n,p} gy[n, o, p]`.
    static func biasGrad(_ gy: UnsafePointer<Float>, _ g: ConvGeometry, into db: UnsafeMutablePointer<Float>) {
        let o = g.outChannels, p = g.plane
        Parallel.forRange(o, grain: 1, cost: 1) { lo, hi in
            for oc in lo..<hi {
                var s = 0.0
                for n in 0..<g.batch { s += Kernels.sum(gy + (n * o + oc) * p, count: p) }
                db[oc] = Float(s)
            }
        }
    }

    private static func unfold(
        _ x: UnsafePointer<Float>, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>,
        ld: Int, parallel: Bool
    ) {
        if parallel {
            Parallel.forRange(g.inChannels, grain: 1) { lo, hi in
                Im2col.unfold(x, g, into: col, ld: ld, channels: lo, hi)
            }
        } else {
            Im2col.unfold(x, g, into: col, ld: ld, channels: 0, g.inChannels)
        }
    }

    /// Zeroes `dx` (one image) and folds `col` into it.
    private static func fold(
        _ col: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry,
        into dx: UnsafeMutablePointer<Float>, parallel: Bool
    ) {
        let hw = g.height * g.width
        if parallel {
            Parallel.forRange(g.inChannels, grain: 1) { lo, hi in
                (dx + lo * hw).update(repeating: 0, count: (hi - lo) * hw)
                Im2col.fold(col, ld: ld, g, into: dx, channels: lo, hi)
            }
        } else {
            dx.update(repeating: 0, count: g.inChannels * hw)
            Im2col.fold(col, ld: ld, g, into: dx, channels: 0, g.inChannels)
        }
    }

    /// Adds the bias to, and runs the epilogue on, output image `image` of `y`.
    private static func finish(
        _ y: UnsafeMutablePointer<Float>, image: Int, bias: UnsafePointer<Float>?,
        channels: Int, plane: Int, epilogue: ConvEpilogue, parallel: Bool
    ) {
        let base = image * channels * plane
        let body = { (lo: Int, hi: Int) in
            for oc in lo..<hi {
                let row = y + base + oc * plane
                if let bias {
                    let b = bias[oc]
                    for q in 0..<plane { row[q] += b }
                }
                if !epilogue.isEmpty { epilogue.apply(y, offset: base + oc * plane, count: plane) }
            }
        }
        if parallel { Parallel.forRange(channels, grain: 1, body) } else { body(0, channels) }
    }
}

import Foundation
