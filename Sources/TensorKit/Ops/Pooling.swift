/// 2-D max pooling over NCHW tensors, as PyTorch's `max_pool2d` (padding counts as −∞,
/// output size rounded down).
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - kernelSize: window side, in pixels.
///   - stride: step between windows (default: `kernelSize`).
///   - padding: implicit −∞ border, at most half the kernel size.
/// - Returns: `[batch, channels, (height + 2·padding − kernelSize) / stride + 1, …]`.
///   Differentiable: the gradient goes to the maximum of each window (the first one on ties).
public func maxPool2d(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
    let s = stride ?? kernelSize
    precondition(input.rank == 4, "TensorKit.maxPool2d: input must be [N, C, H, W], got shape \(input.shape)")
    precondition(
        kernelSize >= 1 && s >= 1 && padding >= 0 && 2 * padding <= kernelSize,
        "TensorKit.maxPool2d: kernelSize \(kernelSize), stride \(s), padding \(padding): need kernel, stride >= 1 and padding <= kernel/2")
    let g = ConvGeometry(
        batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
        outChannels: input.shape[1], kernelH: kernelSize, kernelW: kernelSize,
        strideH: s, strideW: s, padH: padding, padW: padding)
    precondition(
        g.outHeight >= 1 && g.outWidth >= 1,
        "TensorKit.maxPool2d: input \(input.shape) is smaller than the window \(kernelSize)")
    let planes = g.batch * g.inChannels, hw = g.height * g.width, ohw = g.plane
    let out = Tensor(uninitializedShape: [g.batch, g.inChannels, g.outHeight, g.outWidth])
    let needGrad = GradMode.isEnabled && input.requiresGrad
    // Every position is written below, so the (large) buffer starts uninitialised. It comes from
    // the tensor buffer pool (Int32 and Float are both 4 bytes): a fresh array of this size
    // (14 MB at the stem of a batch-16 step) was mapped and its pages faulted in on every step.
    let argmax = needGrad ? TensorStorage(capacity: planes * ohw) : nil
    let x = input.pointer, y = out.pointer
    withExtendedLifetime(argmax) {
        let amp = argmax.map { UnsafeMutableRawPointer($0.pointer).assumingMemoryBound(to: Int32.self) }
        if MaxPoolKernels.isFastPathEnabled, kernelSize == 3, s == 2, padding <= 1, g.outWidth >= 8 {
            MaxPoolKernels.forward3x3Stride2(x, g, into: y, argmax: amp)
            return
        }
        Parallel.forRange(planes, grain: 1, cost: ohw * kernelSize * kernelSize) { lo, hi in
            for plane in lo..<hi {
                let src = x + plane * hw, dst = y + plane * ohw
                for oh in 0..<g.outHeight {
                    let h0 = oh * s - padding
                    let hLo = Swift.max(h0, 0), hHi = Swift.min(h0 + kernelSize, g.height)
                    for ow in 0..<g.outWidth {
                        let w0 = ow * s - padding
                        let wLo = Swift.max(w0, 0), wHi = Swift.min(w0 + kernelSize, g.width)
                        var best = -Float.infinity, at = hLo * g.width + wLo
                        for ih in hLo..<hHi {
                            for iw in wLo..<wHi {
                                let v = src[ih * g.width + iw]
                                if v > best || v.isNaN { best = v; at = ih * g.width + iw }
                            }
                        }
                        dst[oh * g.outWidth + ow] = best
                        if let amp { amp[plane * ohw + oh * g.outWidth + ow] = Int32(at) }
                    }
                }
            }
        }
    }
    let inputShape = input.shape
    return Tensor.record("maxPool2d", out, inputs: [input]) { gy in
        // Each plane is zeroed just before its scatter, while it is in cache: one pass over
        // the (large) gradient instead of two.
        let dx = Tensor(uninitializedShape: inputShape)
        let gp = gy.pointer, d = dx.pointer
        guard let argmax else { preconditionFailure("TensorKit.maxPool2d: backward without the forward pass's argmax") }
        withExtendedLifetime(argmax) {
            let amp = UnsafeRawPointer(argmax.pointer).assumingMemoryBound(to: Int32.self)
            Parallel.forRange(planes, grain: 1, cost: hw + ohw) { lo, hi in
                for plane in lo..<hi {
                    let dst = d + plane * hw
                    dst.update(repeating: 0, count: hw)
                    for j in 0..<ohw { dst[Int(amp[plane * ohw + j])] += gp[plane * ohw + j] }
                }
            }
        }
        return [dx]
    }
}

/// 2-D adaptive average pooling over NCHW tensors, as PyTorch's `adaptive_avg_pool2d`: output
/// cell `(i, j)` averages input rows `⌊i·H/oh⌋ ..< ⌈(i+1)·H/oh⌉` and the same for columns.
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - outputSize: `(oh, ow)`; `(1, 1)` is global average pooling.
/// - Returns: `[batch, channels, oh, ow]`. Differentiable.
public func adaptiveAvgPool2d(_ input: Tensor, outputSize: (Int, Int) = (1, 1)) -> Tensor {
    precondition(input.rank == 4, "TensorKit.adaptiveAvgPool2d: input must be [N, C, H, W], got shape \(input.shape)")
    let (oh, ow) = outputSize
    let h = input.shape[2], w = input.shape[3]
    precondition(
        oh >= 1 && ow >= 1 && h >= 1 && w >= 1,
        "TensorKit.adaptiveAvgPool2d: output size \(outputSize) and input \(input.shape) must be non-empty")
    let planes = input.shape[0] * input.shape[1], hw = h * w, ohw = oh * ow
    let out = Tensor(uninitializedShape: [input.shape[0], input.shape[1], oh, ow])
    let x = input.pointer, y = out.pointer
    @inline(__always) func bounds(_ i: Int, _ o: Int, _ n: Int) -> (Int, Int) {
        (i * n / o, ((i + 1) * n + o - 1) / o)
    }
    Parallel.forRange(planes, grain: 1, cost: hw) { lo, hi in
        for plane in lo..<hi {
            let src = x + plane * hw
            for i in 0..<oh {
                let (h0, h1) = bounds(i, oh, h)
                for j in 0..<ow {
                    let (w0, w1) = bounds(j, ow, w)
                    var s: Float = 0
                    for r in h0..<h1 { for q in w0..<w1 { s += src[r * w + q] } }
                    y[plane * ohw + i * ow + j] = s / Float((h1 - h0) * (w1 - w0))
                }
            }
        }
    }
    let inputShape = input.shape
    return Tensor.record("adaptiveAvgPool2d", out, inputs: [input]) { gy in
        let dx = Tensor(zeros: inputShape)
        let gp = gy.pointer, d = dx.pointer
        Parallel.forRange(planes, grain: 1, cost: hw) { lo, hi in
            for plane in lo..<hi {
                let dst = d + plane * hw
                for i in 0..<oh {
                    let (h0, h1) = bounds(i, oh, h)
                    for j in 0..<ow {
                        let (w0, w1) = bounds(j, ow, w)
                        let v = gp[plane * ohw + i * ow + j] / Float((h1 - h0) * (w1 - w0))
                        for r in h0..<h1 { for q in w0..<w1 { dst[r * w + q] += v } }
                    }
                }
            }
        }
        return [dx]
    }
}

enum MaxPoolKernels {
    /// Whether 3×3/2 pooling takes the SIMD path (tests compare it with the scalar one).
    static var isFastPathEnabled: Bool { KernelConfiguration.current.maxPoolFastPath }

    /// 3×3, stride-2 max pooling (the ResNet stem's), eight outputs per SIMD step: the three
    /// window columns of eight adjacent outputs are the even and odd lanes of two 16-wide loads
    /// from a −∞-padded copy of each row triple. Ties keep the first maximum in row-major
    /// window order and NaN propagates, as in PyTorch.
    static func forward3x3Stride2(
        _ x: UnsafePointer<Float>, _ g: ConvGeometry, into y: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>?
    ) {
        let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, p = g.padH
        let planes = g.batch * g.inChannels
        let owp = (ow + 7) / 8 * 8
        // Padded row: input column c sits at c + 1; the row spans −1 … 2·owp + 16.
        let wp = 2 * owp + 18
        Parallel.forRange(planes, grain: 1, cost: oh * ow * 9) { lo, hi in
            // One −∞-bordered copy of the plane per worker: input row r sits at padded row r + 1.
            // Only the interior is rewritten per plane, so the border stays −∞.
            let paddedRows = h + 3
            let padded = TensorStorage(capacity: paddedRows * wp)
            // Raw pointers into it are used below: keep it alive to the end of the scope.
            defer { withExtendedLifetime(padded) {} }
            padded.pointer.update(repeating: -.infinity, count: paddedRows * wp)
            for plane in lo..<hi {
                let src = x + plane * h * w, dst = y + plane * oh * ow
                for r in 0..<h { Short.copy(padded.pointer + (r + 1) * wp + 1, src + r * w, count: w) }
                for o in 0..<oh {
                    let h0 = o * 2 - p
                    let rp = padded.pointer + (h0 + 1) * wp
                    var oc = 0
                    if argmax == nil {
                        // Values only (inference): the column maximum of the three rows first, then
                        // of each window's three columns: 6 maxima per 8 outputs instead of 9
                        // compare-and-selects that also track positions.
                        while oc < ow {
                            // Lanes: window columns 0, 1 (`a`, even and odd) and 2 (`c`, shifted by two).
                            let r = UnsafeRawPointer(rp + 2 * oc - p + 1)
                            var a = r.loadUnaligned(as: SIMD16<Float>.self)
                            var c = r.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                            for k in 1..<3 {
                                a = nanMax(a, r.loadUnaligned(fromByteOffset: k * wp * 4, as: SIMD16<Float>.self))
                                c = nanMax(c, r.loadUnaligned(fromByteOffset: k * wp * 4 + 8, as: SIMD16<Float>.self))
                            }
                            let best = nanMax(nanMax(a.evenHalf, a.oddHalf), c.evenHalf)
                            if ow - oc >= 8 {
                                UnsafeMutableRawPointer(dst + o * ow + oc).storeBytes(of: best, as: SIMD8<Float>.self)
                            } else {
                                for l in 0..<(ow - oc) { dst[o * ow + oc + l] = best[l] }
                            }
                            oc += 8
                        }
                        continue
                    }
                    while oc < ow {
                        // Window columns 2·oc − p + j sit at padded 2·oc − p + j + 1.
                        let start = 2 * oc - p + 1
                        // Start from the window's first valid position with −∞, as the scalar path
                        // does, so an all-(−∞) window still points inside the image.
                        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
                        // Negative columns (the left border) clamped to 0, with vector shifts: the
                        // `replace(with:where:)` form went lane by lane through the stack (half
                        // of this function's time in store-forwarding stalls).
                        let unclamped = lane &+ Int32(2 * oc - p)
                        let firstColumn = unclamped & ~(unclamped &>> 31)
                        var best = SIMD8<Float>(repeating: -.infinity)
                        var at = Int32(Swift.max(h0, 0) * w) &+ firstColumn
                        for k in 0..<3 {
                            let r = UnsafeRawPointer(rp + k * wp + start)
                            let a = r.loadUnaligned(as: SIMD16<Float>.self)
                            let b = r.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                            let rowBase = Int32((h0 + k) * w)
                            @inline(__always) func consider(_ v: SIMD8<Float>, _ j: Int) {
                                let take = (v .> best) .| (v .!= v)
                                best.replace(with: v, where: take)
                                at.replace(with: lane &+ Int32(2 * oc - p + j) &+ rowBase, where: take)
                            }
                            consider(a.evenHalf, 0)
                            consider(a.oddHalf, 1)
                            consider(b.evenHalf, 2)
                        }
                        let n = min(8, ow - oc), first = plane * oh * ow + o * ow + oc
                        if n == 8 {
                            UnsafeMutableRawPointer(dst + o * ow + oc).storeBytes(of: best, as: SIMD8<Float>.self)
                            if let argmax { UnsafeMutableRawPointer(argmax + first).storeBytes(of: at, as: SIMD8<Int32>.self) }
                        } else {
                            for l in 0..<n {
                                dst[o * ow + oc + l] = best[l]
                                if let argmax { argmax[first + l] = at[l] }
                            }
                        }
                        oc += 8
                    }
                }
            }
        }
    }

    /// Lane-wise maximum that propagates NaN from either side, as PyTorch's max pooling does.
    /// (Concrete types: the generic `SIMD` version is not specialised into vector code.)
    @inline(__always)
    private static func nanMax(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        x.replacing(with: y, where: (y .> x) .| (y .!= y))
    }

    @inline(__always)
    private static func nanMax(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: y, where: (y .> x) .| (y .!= y))
    }
}
