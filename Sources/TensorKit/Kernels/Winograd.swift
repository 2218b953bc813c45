import _TensorKitGEMM
import _TensorKitWinograd
import Foundation

/// Winograd F(2×2, 3×3) convolution for 3×3, stride-1, padding-1 layers (most of a ResNet).
///
/// Each 2×2 output tile comes from a 4×4 input tile: `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`
/// (Lavin & Gray, 2016). Summed over input channels, the elementwise products become 16
/// independent GEMMs `M_ξ[O × T] = U_ξ[O × C] · V_ξ[C × T]` over T tiles, with 16/36 of the
/// multiplications of im2col. F(4×4, 3×3) (6×6 input tiles, 36 GEMMs, 36/144) runs on the
/// points 0, ±3/4, ±3/2 rather than Lavin & Gray's 0, ±1, ±2: half the float32 rounding. The input gradient of such a layer is the same convolution of the
/// output gradient with the filters flipped and transposed, so it runs through here too.
enum Winograd {
    // Which transforms run and when this path applies are settings of ``KernelConfiguration``:
    // `winograd` (`TENSORKIT_WINOGRAD=0` turns the path off), `usesVectorWinograd` (the AVX-512
    // transforms of `_TensorKitWinograd`, sixteen tiles per vector, the layer's bias, residual
    // and ReLU in the output pass, rather than the portable Swift ones below), `usesAVX2Winograd`
    // (their AVX2 twins, eight tiles per vector, on CPUs without AVX-512),
    // `winogradTargetTiles`, `winogradGroupBytes` (``imagesPerGroup(_:tilesPerImage:target:tileBytes:filterBytes:_:)``),
    // `winogradMinimumTilesPerWorker` and `winogradMinimumTilesPrepared`;
    // for F(4×4, 3×3), `winogradLargeTiles`, `winogradLargeTileMinimum`
    // and `winogradLargeTargetTiles`.
    //
    // The minimum for prepared (frozen) filters is lower: at batch 1 the 16 GEMMs go 8 per
    // worker. With the AVX-512 tile transforms and the packed filters, even layer4's 4×14 map
    // (14 tiles) is faster on Winograd than on im2col: batch-1 latency 18.2-18.9 ms against
    // 21.4-21.9 ms with a minimum of 32 (layer4 on im2col), in alternating runs; the cost is more
    // resident memory for layer4's transformed filters (16/9 of their size).
    // `TENSORKIT_WINOGRAD_MIN_TILES=32` restores the lower-memory choice.

    /// Whether the tile transforms are the AVX-512 ones in the calling context.
    static var usesVectorTransforms: Bool { KernelConfiguration.current.usesVectorWinograd }
    /// Whether they are the AVX2 ones (`tkwino_avx2_*`: float32 V and M, OpenBLAS products).
    static var usesAVX2Transforms: Bool { KernelConfiguration.current.usesAVX2Winograd }
    /// Minimum tiles per GEMM: images with few tiles are transformed side by side.
    static var targetTiles: Int { KernelConfiguration.current.winogradTargetTiles }

    /// Whether a convolution of geometry `g` runs here; `weightsPrepared` when its filters'
    /// transform is cached rather than redone on this call.
    static func applies(
        _ g: ConvGeometry, weightsPrepared: Bool = false,
        _ configuration: KernelConfiguration = .current
    ) -> Bool {
        guard configuration.winograd, g.kernelH == 3, g.kernelW == 3, g.strideH == 1, g.strideW == 1, g.padH == 1, g.padW == 1 else {
            return false
        }
        let tiles = ((g.height + 1) / 2) * ((g.width + 1) / 2)
        let workers = configuration.threads
        let imagesPerWorker = (g.batch + workers - 1) / workers
        let perWorker = configuration.winogradMinimumTilesPerWorker
        let minimum = weightsPrepared ? min(configuration.winogradMinimumTilesPrepared, perWorker) : perWorker
        return tiles * max(imagesPerWorker, 1) >= minimum
    }

    /// Whether the input gradient of a training convolution `g` (Winograd applying; its
    /// filters transformed on each call) runs on F(4×4, 3×3): TensorKit's transforms and GEMM
    /// (AVX-512, or AVX2 with its own kernel), and at least ``KernelConfiguration/winogradLargeTileTrainingMinimum`` 4×4 tiles per
    /// worker, where the saved multiplications outweigh transforming (and, for the AVX-512
    /// kernel, packing) 36 filter matrices per call. The forward pass takes F(4×4) where this
    /// holds unless ``KernelConfiguration/winogradLargeTilesForward`` is `false`
    /// (``usesLargeTilesForward(_:_:)``; the weight gradient takes 4×4 tiles too:
    /// ``usesLargeTilesForWeightGradient(_:_:)``): the forward pass's rounding is what the
    /// backward pass amplifies. In `FullModelTrainingParityTests` (gradients against float64,
    /// ours / PyTorch float32's error, AVX2 set on Zen 2) F(4×4) in the input and weight
    /// gradients leaves the ratio where F(2×2) alone has it (0.023x); F(4×4) in the forward pass
    /// too raises it to 0.80x on the points 0, ±3/4, ±3/2 (1.78x on Lavin & Gray's 0, ±1, ±2).
    /// bfloat16 puts its input gradient on F(4×4) by default too (its weight gradient stays on
    /// 2×2 tiles).
    static func usesLargeTilesForInputGradient(_ g: ConvGeometry, _ configuration: KernelConfiguration = .current) -> Bool {
        let precision = configuration.precision == .float32 || configuration.asksLargeTilesForward
        guard precision, configuration.usesTensorKitGEMM || configuration.usesAVX2GEMM else { return false }
        return usesLargeTiles(g, configuration, minimum: configuration.winogradLargeTileTrainingMinimum)
    }

    /// Whether the forward pass of a convolution `g` whose filters are transformed on
    /// each call (training; Winograd applying) runs on F(4×4, 3×3): where it is asked
    /// (``KernelConfiguration/winogradLargeTilesForward``, by default at either precision) and
    /// its input gradient would.
    static func usesLargeTilesForward(_ g: ConvGeometry, _ configuration: KernelConfiguration = .current) -> Bool {
        configuration.asksLargeTilesForward && usesLargeTilesForInputGradient(g, configuration)
    }

    /// Whether ``usesLargeTilesForward(_:_:)`` holds for a 3×3/1/1 layer on a map large enough
    /// for every tile threshold: whether `configuration` runs training's forward passes on
    /// F(4×4) anywhere (unless refused: float32 with the AVX-512 or AVX2 kernels, or bfloat16
    /// with the AVX-512 kernels).
    static func takesLargeTilesForward(_ configuration: KernelConfiguration) -> Bool {
        let g = ConvGeometry(
            batch: configuration.threads, inChannels: 64, height: 256, width: 256, outChannels: 64,
            kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
        return applies(g, configuration) && usesLargeTilesForward(g, configuration)
    }

    /// Whether the weight gradient of a float32 training convolution `g` (Winograd applying)
    /// runs on 4×4 output-gradient tiles (36 matrices: 9/16 of the 2×2 tiles' multiplications,
    /// and 36/64 of their transformed data): the AVX2 or AVX-512 transforms (the F(4×4)
    /// output-gradient transform is the AVX2 one in both sets, which AVX-512 CPUs run too), where
    /// ``usesLargeTilesForInputGradient(_:_:)`` holds and also from
    /// ``KernelConfiguration/winogradLargeTileWeightGradientMinimum`` 4×4 tiles per worker
    /// (layer4 at batch 16, whose input gradient stays on F(2×2)).
    static func usesLargeTilesForWeightGradient(_ g: ConvGeometry, _ configuration: KernelConfiguration = .current) -> Bool {
        guard configuration.precision == .float32, configuration.winogradLargeTilesWeightGradient else { return false }
        guard usesVectorFilterGradient(configuration) else { return false }
        let minimum = min(configuration.winogradLargeTileTrainingMinimum, configuration.winogradLargeTileWeightGradientMinimum)
        return usesLargeTiles(g, configuration, minimum: minimum)
    }

    /// Whether frozen filters of a convolution `g` (Winograd applying) take F(4×4, 3×3): the
    /// AVX-512 transforms and TensorKit's packed GEMM, or the AVX2 transforms at float32 (with
    /// TensorKit's AVX2 GEMM or OpenBLAS), and enough 4×4 tiles per worker (``KernelConfiguration/winogradLargeTiles``).
    /// Layer3 at batch 1 (14 tiles) takes it; layer4 (4 tiles) keeps F(2×2), whose filters are
    /// 4/9 of the bytes to stream.
    static func usesLargeTiles(
        _ g: ConvGeometry, _ configuration: KernelConfiguration = .current, minimum: Int? = nil
    ) -> Bool {
        let avx512 = configuration.usesVectorWinograd && configuration.usesTensorKitGEMM
        let avx2 = configuration.usesAVX2Winograd && configuration.precision == .float32
        guard configuration.winogradLargeTiles, avx512 || avx2 else { return false }
        let tiles = ((g.height + 3) / 4) * ((g.width + 3) / 4)
        let imagesPerWorker = (g.batch + configuration.threads - 1) / configuration.threads
        return tiles * max(imagesPerWorker, 1) >= minimum ?? configuration.winogradLargeTileMinimum
    }

    /// `U[ξ][r][s]` (16 × rows × cols) from 3×3 filters `w[O, C, 3, 3]`. For the forward
    /// convolution rows are output channels and cols input channels; with `forInputGradient`
    /// rows are input channels and each filter is flipped (`w[o][c][2−i][2−j]`).
    static func transformWeights(
        _ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int,
        forInputGradient: Bool
    ) -> TensorStorage {
        let rows = forInputGradient ? c : o, cols = forInputGradient ? o : c
        let u = TensorStorage(capacity: 16 * rows * cols)
        let up = u.pointer, plane = rows * cols
        if usesVectorTransforms || usesAVX2Transforms {
            let transform = usesAVX2Transforms ? tkwino_avx2_filter_transform : tkwino_filter_transform
            Parallel.forRange(rows, grain: 1, cost: cols * 64) { lo, hi in
                transform(w, o, c, forInputGradient ? 1 : 0, lo, hi, up)
            }
            return u
        }
        Parallel.forRange(rows, grain: 1, cost: cols * 64) { lo, hi in
            for row in lo..<hi {
                for col in 0..<cols {
                    // Row/col of U are (oc, ic) forward, (ic, oc) for the input gradient.
                    let (oc, ic) = forInputGradient ? (col, row) : (row, col)
                    let at = row * cols + col
                    let f = w + (oc * c + ic) * 9
                    @inline(__always) func g(_ k: Int) -> Float { forInputGradient ? f[8 - k] : f[k] }
                    // t = G g (4 × 3, rows t0…t3), then U = t Gᵀ (4 × 4).
                    let r0 = SIMD3(g(0), g(1), g(2)), r1 = SIMD3(g(3), g(4), g(5)), r2 = SIMD3(g(6), g(7), g(8))
                    let t0 = r0, t1 = 0.5 * (r0 + r1 + r2), t2 = 0.5 * (r0 - r1 + r2), t3 = r2
                    @inline(__always) func store(_ i: Int, _ t: SIMD3<Float>) {
                        let a = t[0], b = t[1], e = t[2]
                        up[(i * 4 + 0) * plane + at] = a
                        up[(i * 4 + 1) * plane + at] = 0.5 * (a + b + e)
                        up[(i * 4 + 2) * plane + at] = 0.5 * (a - b + e)
                        up[(i * 4 + 3) * plane + at] = e
                    }
                    store(0, t0); store(1, t1); store(2, t2); store(3, t3)
                }
            }
        }
        return u
    }

    /// `U[ξ][r][s]` of F(4×4, 3×3) (36 × rows × cols, in float32), rows and cols as
    /// ``transformWeights(_:outChannels:inChannels:forInputGradient:)`` has them. Vector
    /// transforms (AVX-512 or AVX2) only: F(4×4) runs nowhere else.
    static func transformWeights4x4(
        _ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, forInputGradient: Bool
    ) -> TensorStorage {
        precondition(usesVectorTransforms || usesAVX2Transforms, "Winograd F(4x4, 3x3) needs the AVX-512 or AVX2 transforms")
        let rows = forInputGradient ? c : o, cols = forInputGradient ? o : c
        let u = TensorStorage(capacity: 36 * rows * cols)
        let up = u.pointer
        let transform = usesAVX2Transforms ? tkwino43_avx2_filter_transform : tkwino43_filter_transform
        Parallel.forRange(rows, grain: 1, cost: cols * 200) { lo, hi in
            transform(w, o, c, forInputGradient ? 1 : 0, lo, hi, up)
        }
        return u
    }

    /// Filters in the Winograd domain, as ``convolve(_:batch:inChannels:height:width:u:outChannels:bias:into:epilogue:)``
    /// takes them: the 16 `rows × cols` matrices `U_ξ` from
    /// ``transformWeights(_:outChannels:inChannels:forInputGradient:)``, or, for filters used on
    /// many calls (frozen inference layers), each `U_ξ` packed once for TensorKit's GEMM kernel.
    enum Filters: @unchecked Sendable {
        /// `(tile + 2)²` matrices, one after the other: 16 for F(2×2, 3×3), 36 for F(4×4, 3×3).
        case plain(TensorStorage, tile: Int = 2)
        case packed([BLAS.PackedMatrix])

        /// The packed matrices when they hold bfloat16 pairs for `vdpbf16ps`.
        var bfloat16Packs: [BLAS.PackedMatrix]? {
            if case .packed(let packs) = self, packs.first?.format == .bfloat16 { return packs }
            return nil
        }

        /// Whether the matrices are packed for TensorKit's GEMM.
        var isPacked: Bool {
            if case .packed = self { return true }
            return false
        }

        /// The output tile: 2 for F(2×2, 3×3) (16 matrices), 4 for F(4×4, 3×3) (36).
        var tile: Int {
            switch self {
            case .plain(_, let tile): return tile
            case .packed(let packs): return packs.count == 36 ? 4 : 2
            }
        }

        /// The rows of F(4×4, 3×3)'s `G` in double precision: `(1, p, p²) / N_p` for the finite
        /// points p of `WINO43_FILTER` (0, ±3/4, ±3/2), `N_p` the product of `p − q` over the
        /// other finite points q, then (0, 0, 1) for infinity.
        static let largeTileFilterRows: [[Double]] = {
            let points = [0, 0.75, -0.75, 1.5, -1.5]
            let finite = points.map { p in
                let n = points.filter { $0 != p }.reduce(1.0) { $0 * (p - $1) }
                return [1 / n, p / n, p * p / n]
            }
            return finite + [[0, 0, 1]]
        }()

        /// The F(4×4, 3×3) forward filters of `w[O, C, 3, 3]` (`U_ξ = G g Gᵀ`, 36 matrices
        /// `O × C`, each output channel's multiplied by `rowScale[o]` when given), packed for
        /// TensorKit's GEMM (AVX-512, or AVX2 at float32), or plain for OpenBLAS with the AVX2
        /// transforms at float32; `nil` otherwise (F(2×2, 3×3) then). Made once per frozen layer,
        /// in double precision.
        static func prepared4x4(
            _ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, rowScale: [Float]? = nil
        ) -> Filters? {
            let g = largeTileFilterRows
            let plane = o * c
            let u = TensorStorage(capacity: 36 * plane)
            let up = u.pointer
            Parallel.forRange(o, grain: 1, cost: c * 400) { lo, hi in
                for oc in lo..<hi {
                    let scale = Double(rowScale?[oc] ?? 1)
                    for ic in 0..<c {
                        let f = w + (oc * c + ic) * 9
                        // t = G f (6 × 3), then U = t Gᵀ (6 × 6).
                        var t = [Double](repeating: 0, count: 18)
                        for i in 0..<6 {
                            for b in 0..<3 {
                                t[i * 3 + b] = g[i][0] * Double(f[b]) + g[i][1] * Double(f[3 + b]) + g[i][2] * Double(f[6 + b])
                            }
                        }
                        for i in 0..<6 {
                            for j in 0..<6 {
                                let v = t[i * 3] * g[j][0] + t[i * 3 + 1] * g[j][1] + t[i * 3 + 2] * g[j][2]
                                up[(6 * i + j) * plane + oc * c + ic] = Float(v * scale)
                            }
                        }
                    }
                }
            }
            let configuration = KernelConfiguration.current
            if !configuration.usesTensorKitGEMM && !configuration.usesAVX2GEMM {
                return configuration.usesAVX2Winograd && configuration.precision == .float32 ? .plain(u, tile: 4) : nil
            }
            var packs: [BLAS.PackedMatrix] = []
            // Raw pointers into `u` are read by the packing: keep it alive until it is done.
            defer { withExtendedLifetime(u) {} }
            for xi in 0..<36 {
                guard let p = BLAS.pack(.none, m: o, k: c, a: up + xi * plane, lda: c) else { return nil }
                packs.append(p)
            }
            return .packed(packs)
        }

        /// The forward filters of `w[O, C, 3, 3]`, each output channel's multiplied by
        /// `rowScale[o]` when given, packed when TensorKit's kernel is in use.
        static func prepared(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, rowScale: [Float]? = nil) -> Filters {
            let u = transformWeights(w, outChannels: o, inChannels: c, forInputGradient: false)
            if let rowScale {
                let up = u.pointer
                for row in 0..<(16 * o) {
                    let factor = rowScale[row % o], r = up + row * c
                    for j in 0..<c { r[j] *= factor }
                }
            }
            var packs: [BLAS.PackedMatrix] = []
            // Raw pointers into `u` are read by the packing: keep it alive until it is done.
            defer { withExtendedLifetime(u) {} }
            for xi in 0..<16 {
                guard let p = BLAS.pack(.none, m: o, k: c, a: u.pointer + xi * o * c, lda: c) else { return .plain(u) }
                packs.append(p)
            }
            return .packed(packs)
        }

        /// Filters of one call (training: they change every step) from
        /// ``transformWeights(_:outChannels:inChannels:forInputGradient:)``: with more than one
        /// image, each `U_ξ` packed once for TensorKit's GEMM, the 16 split over the workers.
        /// Unpacked, every worker's every group of images packed all 16 again inside its GEMMs:
        /// twice per layer4 call at batch 16, sixteen times per layer1 call.
        /// The AVX2 kernel reads them in place (`tkgemm_avx2_sgemm` reads an untransposed A's rows
        /// without packing), so on that set they stay plain.
        static func forCall(_ u: TensorStorage, rows: Int, cols: Int, batch: Int) -> Filters {
            guard batch > 1, let packs = pack(u, matrices: 16, rows: rows, cols: cols) else { return .plain(u) }
            return .packed(packs)
        }

        /// Filters of one call from ``transformWeights4x4(_:outChannels:inChannels:forInputGradient:)``:
        /// packed for TensorKit's AVX-512 GEMM, plain for its AVX2 one (which reads them in place);
        /// `nil` when neither is in use (F(4×4) runs on TensorKit's kernels only).
        static func forCall4x4(_ u: TensorStorage, rows: Int, cols: Int) -> Filters? {
            if let packs = pack(u, matrices: 36, rows: rows, cols: cols) { return .packed(packs) }
            return KernelConfiguration.current.usesAVX2GEMM ? .plain(u, tile: 4) : nil
        }

        /// Each of the `matrices` `rows × cols` matrices of `u` packed, split over the workers, for
        /// TensorKit's AVX-512 GEMM; `nil` for any other kernel.
        private static func pack(_ u: TensorStorage, matrices: Int, rows: Int, cols: Int) -> [BLAS.PackedMatrix]? {
            let configuration = KernelConfiguration.current
            guard configuration.usesTensorKitGEMM else { return nil }
            var packs = [BLAS.PackedMatrix?](repeating: nil, count: matrices)
            let up = u.pointer, plane = rows * cols
            packs.withUnsafeMutableBufferPointer { slots in
                let base = slots.baseAddress!
                Parallel.forRange(matrices, grain: 1) { lo, hi in
                    for xi in lo..<hi { base[xi] = BLAS.pack(.none, m: rows, k: cols, a: up + xi * plane, lda: cols) }
                }
            }
            // Raw pointers into `u` were read by the packing: keep it alive until it is done.
            withExtendedLifetime(u) {}
            let all = packs.compactMap { $0 }
            return all.count == matrices ? all : nil
        }

        /// `M_ξ[rows × n] = U_ξ · V_ξ[cols × n]`.
        @inline(__always)
        func multiply(_ xi: Int, rows o: Int, cols c: Int, n: Int, v: UnsafePointer<Float>, into m: UnsafeMutablePointer<Float>) {
            switch self {
            case .plain(let u, _):
                BLAS.gemm(.none, .none, m: o, n: n, k: c, a: u.pointer + xi * o * c, lda: c, b: v, ldb: n, c: m, ldc: n)
            case .packed(let packs):
                BLAS.gemm(packs[xi], .none, n: n, b: v, ldb: n, c: m, ldc: n)
            }
        }
    }

    /// `y[N, O, H, W] = conv3×3(x[N, C, H, W], padding 1) + bias` with filters already
    /// transformed by ``transformWeights(_:outChannels:inChannels:forInputGradient:)``.
    ///
    /// With `moments` (`2 · n · o` doubles), each image's and channel's sum and sum of squares
    /// of `y` are written there as the output transform stores `y` (image i, channel oc at
    /// `2 · (i · o + oc)`), where the float32 AVX2 transforms run; returns whether it did.
    @discardableResult
    static func convolve(
        _ x: UnsafePointer<Float>, batch n: Int, inChannels c: Int, height h: Int, width w: Int,
        u: Filters, outChannels o: Int, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue = ConvEpilogue(),
        moments: UnsafeMutablePointer<Double>? = nil
    ) -> Bool {
        // F(2×2, 3×3): 16 matrices of 2×2-output tiles; F(4×4, 3×3) (vector transforms only): 36 of 4×4.
        let tile = u.tile, matrices = (tile + 2) * (tile + 2)
        precondition(tile == 2 || usesVectorTransforms || usesAVX2Transforms, "Winograd F(4x4, 3x3) needs the AVX-512 or AVX2 transforms")
        let th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile, tilesPerImage = th * tw
        // F(4×4)'s 36 matrices per tile take fewer tiles per group, so that V and M stay nearer
        // the cache (layer1 at batch 16: one image, 216 tiles, instead of three).
        let target = tile == 4 ? KernelConfiguration.current.winogradLargeTargetTiles : targetTiles
        let blocks = blockCount(batch: n, tilesPerImage: tilesPerImage, target: target)
        let inner = blocks == 1 && Parallel.workers > 1
        // V (bfloat16 pairs, packed, when the filters are) and M of one tile.
        let element = u.bfloat16Packs == nil ? 4 : 2
        let tileBytes = matrices * (element * c + 4 * o), filterBytes = matrices * element * o * c
        let gs = imagesPerGroup(
            (n + blocks - 1) / blocks, tilesPerImage: tilesPerImage, target: target, tileBytes: tileBytes,
            filterBytes: filterBytes)
        let moments = usesAVX2Transforms && u.bfloat16Packs == nil ? moments : nil
        moments?.update(repeating: 0, count: 2 * n * o)
        // The workers claim groups of images as they finish the last (each image's result is the
        // same whoever computes it), so a core slowed by a neighbour does not hold up the other.
        Parallel.claiming(n, chunk: gs, blocks: blocks) { _, next in
            // Packed bfloat16 filters (and the vector transforms): the input transform writes
            // the GEMM's packed bfloat16 operands itself, with no float32 V and no packing pass.
            if usesVectorTransforms, let packs = u.bfloat16Packs {
                while let images = next() {
                    convolveBFloat16(
                        x, images: images, group: gs, inChannels: c, height: h, width: w, packs: packs,
                        outChannels: o, bias: bias, into: y, epilogue: epilogue, parallel: inner)
                }
                return
            }
            // One image's V and M past the caches (layer1 at batch 16: 7 MB): bands of tile rows.
            let budget = KernelConfiguration.current.winogradGroupBytes, imageBytes = tilesPerImage * tileBytes
            if usesAVX2Transforms, u.bfloat16Packs == nil, gs == 1, th > 1, imageBytes > budget {
                let bands = min(th, imageBytes / max(budget, 1) + 1)
                convolveBands(
                    x, images: next, bands: bands, tile: tile, inChannels: c, height: h, width: w, u: u,
                    outChannels: o, bias: bias, into: y, epilogue: epilogue, moments: moments, parallel: inner)
                return
            }
            let v = TensorStorage(capacity: matrices * planeStride(c, gs * tilesPerImage))
            // Raw pointers into it are used below: keep it alive to the end of the scope.
            defer { withExtendedLifetime(v) {} }
            let m = TensorStorage(capacity: matrices * planeStride(o, gs * tilesPerImage))
            // Raw pointers into it are used below: keep it alive to the end of the scope.
            defer { withExtendedLifetime(m) {} }
            while let images = next() {
                let i = images.lowerBound, count = images.count, tiles = count * tilesPerImage
                let vp = v.pointer, mp = m.pointer
                let vStride = planeStride(c, tiles), mStride = planeStride(o, tiles)
                forEach(c, parallel: inner) { c0, c1 in
                    transformInputs(
                        tile: tile, x, images: i..<(i + count), inChannels: c, channels: c0, c1, height: h, width: w,
                        into: vp, ldT: tiles, planeStride: vStride)
                }
                forEach(matrices, parallel: inner) { x0, x1 in
                    for xi in x0..<x1 {
                        u.multiply(xi, rows: o, cols: c, n: tiles, v: vp + xi * vStride, into: mp + xi * mStride)
                    }
                }
                forEach(o, parallel: inner) { o0, o1 in
                    for j in 0..<count {
                        let image = (i + j) * o * h * w
                        let residual = epilogue.residual.map { $0 + image }
                        let pre = epilogue.preActivation.map { $0 + image }, relu: Int32 = epilogue.relu ? 1 : 0
                        if usesAVX2Transforms {
                            let transform = tile == 4 ? tkwino43_avx2_output_transform : tkwino_avx2_output_transform
                            transform(
                                mp, o0, o1, tiles, j * tilesPerImage, mStride, h, w, bias, y + image, residual, pre,
                                relu, moments.map { $0 + 2 * (i + j) * o })
                            continue
                        }
                        if tile == 4 || usesVectorTransforms {
                            let transform = tile == 4 ? tkwino43_output_transform : tkwino_output_transform
                            transform(
                                mp, o0, o1, tiles, j * tilesPerImage, mStride, h, w, bias, y + image, residual, pre,
                                relu)
                            continue
                        }
                        outputTransform(
                            mp, outChannels: o0, o1, ldT: tiles, tileOffset: j * tilesPerImage,
                            channelStride: mStride, height: h, width: w, bias: bias,
                            into: y + image)
                        if !epilogue.isEmpty {
                            epilogue.apply(y, offset: image + o0 * h * w, count: (o1 - o0) * h * w)
                        }
                    }
                }
            }
        }
        return moments != nil
    }

    /// Winograd convolution of each image of the ranges `images()` hands out (until `nil`), in
    /// `bands` bands of tile rows, each band transformed, multiplied and transformed back while
    /// its V and M are in the caches (the AVX2 transforms, float32; the AVX-512 set keeps whole
    /// images).
    private static func convolveBands(
        _ x: UnsafePointer<Float>, images next: () -> Range<Int>?, bands: Int, tile: Int, inChannels c: Int, height h: Int,
        width w: Int, u: Filters, outChannels o: Int, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue, moments: UnsafeMutablePointer<Double>?,
        parallel: Bool
    ) {
        let matrices = (tile + 2) * (tile + 2)
        let th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile
        let most = (th + bands - 1) / bands * tw
        let v = TensorStorage(capacity: matrices * planeStride(c, most))
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(v) {} }
        let m = TensorStorage(capacity: matrices * planeStride(o, most))
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(m) {} }
        let vp = v.pointer, mp = m.pointer
        let large: Int32 = tile == 4 ? 1 : 0
        let scratchCount = tile == 4 ? tkwino43_input_scratch(h, w) : tkwino_input_scratch(h, w)
        while let images = next() {
            for i in images {
                let input = x + i * c * h * w, image = i * o * h * w
                for band in 0..<bands {
                    let ti0 = band * th / bands, ti1 = (band + 1) * th / bands
                    let tiles = (ti1 - ti0) * tw
                    let vStride = planeStride(c, tiles), mStride = planeStride(o, tiles)
                    forEach(c, parallel: parallel) { c0, c1 in
                        let scratch = TensorStorage(capacity: scratchCount)
                        // Raw pointers into it are used below: keep it alive to the end of the scope.
                        defer { withExtendedLifetime(scratch) {} }
                        tkwino_avx2_input_transform_band(
                            large, input, c0, c1, h, w, ti0, ti1, vp, tiles, vStride, scratch.pointer)
                    }
                    forEach(matrices, parallel: parallel) { x0, x1 in
                        for xi in x0..<x1 {
                            u.multiply(xi, rows: o, cols: c, n: tiles, v: vp + xi * vStride, into: mp + xi * mStride)
                        }
                    }
                    forEach(o, parallel: parallel) { o0, o1 in
                        tkwino_avx2_output_transform_band(
                            large, mp, o0, o1, tiles, mStride, h, w, ti0, ti1, bias, y + image,
                            epilogue.residual.map { $0 + image }, epilogue.preActivation.map { $0 + image },
                            epilogue.relu ? 1 : 0, moments.map { $0 + 2 * i * o })
                    }
                }
            }
        }
    }

    /// Winograd convolution of `images` in groups of `group` with bfloat16 filters (16 packs:
    /// F(2×2, 3×3), 36: F(4×4, 3×3)): the input transform writes each `V_ξ` as the packed
    /// bfloat16 B of TensorKit's GEMM (`tkwino_input_transform_bf16`,
    /// `tkwino43_input_transform_bf16`: the same values as the float32 transform then packing).
    private static func convolveBFloat16(
        _ x: UnsafePointer<Float>, images: Range<Int>, group gs: Int, inChannels c: Int, height h: Int, width w: Int,
        packs: [BLAS.PackedMatrix], outChannels o: Int, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue, parallel: Bool
    ) {
        let large = packs.count == 36, tile = large ? 4 : 2
        let tilesPerImage = ((h + tile - 1) / tile) * ((w + tile - 1) / tile)
        let depth = tkgemm_bf16_slice_depth(c), width = tkgemm_bf16_panel_width()
        let bStride = BLAS.packedBSize(k: c, n: gs * tilesPerImage)
        let b = TensorStorage(capacity: packs.count * bStride)
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(b) {} }
        let m = TensorStorage(capacity: packs.count * planeStride(o, gs * tilesPerImage))
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(m) {} }
        let bp = b.pointer, mp = m.pointer
        let packed = UnsafeMutableRawPointer(bp).assumingMemoryBound(to: UInt16.self)
        var i = images.lowerBound
        while i < images.upperBound {
            let count = min(gs, images.upperBound - i), tiles = count * tilesPerImage
            let mStride = planeStride(o, tiles)
            // Pieces of whole channel pairs: a pair is one element of the packed layout.
            forEach((c + 1) / 2, parallel: parallel) { p0, p1 in
                for j in 0..<count {
                    let transform = large ? tkwino43_input_transform_bf16 : tkwino_input_transform_bf16
                    transform(
                        x + (i + j) * c * h * w, 2 * p0, min(c, 2 * p1), c, h, w, packed, depth, width, tiles,
                        j * tilesPerImage, 2 * bStride)
                }
            }
            forEach(packs.count, parallel: parallel) { x0, x1 in
                for xi in x0..<x1 {
                    BLAS.gemm(packs[xi], packedB: bp + xi * bStride, n: tiles, c: mp + xi * mStride, ldc: tiles)
                }
            }
            forEach(o, parallel: parallel) { o0, o1 in
                for j in 0..<count {
                    let image = (i + j) * o * h * w
                    let transform = large ? tkwino43_output_transform : tkwino_output_transform
                    transform(
                        mp, o0, o1, tiles, j * tilesPerImage, mStride, h, w, bias, y + image,
                        epilogue.residual.map { $0 + image }, epilogue.preActivation.map { $0 + image },
                        epilogue.relu ? 1 : 0)
                }
            }
            i += count
        }
    }

    /// `dw[O, C, 3, 3] = ∂L/∂w` of ``convolve(_:batch:inChannels:height:width:u:outChannels:bias:into:)``
    /// from its input `x[N, C, H, W]` and output gradient `gy[N, O, H, W]`, in the Winograd
    /// domain: `dU_ξ = Σ dM_ξ · V_ξᵀ` with `dM = A dY Aᵀ` per tile, then `dw = Gᵀ dU G`; on
    /// 4×4 output-gradient tiles (36 matrices, F(4×4, 3×3)'s A, B and G) with `largeTiles`
    /// (``usesLargeTilesForWeightGradient(_:_:)``), else 2×2 (16). At bfloat16 the 2×2 tiles'
    /// transforms write bfloat16 operands for the products where ``takesBFloat16Rows(m:n:k:_:)``
    /// (unless `bfloat16Rows` is `false`: float32 planes rounded while packed, the same numbers).
    static func weightGradient(
        x: UnsafePointer<Float>, gy: UnsafePointer<Float>, batch n: Int, inChannels c: Int,
        outChannels o: Int, height h: Int, width w: Int, largeTiles: Bool = false, bfloat16Rows: Bool = true,
        into dw: UnsafeMutablePointer<Float>
    ) {
        precondition(
            !largeTiles || usesVectorFilterGradient(.current),
            "Winograd.weightGradient: 4x4 tiles need the AVX2 or AVX-512 transforms on an AVX2 CPU")
        let tile = largeTiles ? 4 : 2, matrices = (tile + 2) * (tile + 2)
        let th = (h + tile - 1) / tile, tw = (w + tile - 1) / tile, tilesPerImage = th * tw
        let target = largeTiles ? KernelConfiguration.current.winogradLargeTargetTiles : targetTiles
        let blocks = blockCount(batch: n, tilesPerImage: tilesPerImage, target: target)
        let inner = blocks == 1 && Parallel.workers > 1
        let partials = (0..<blocks).map { _ in TensorStorage(capacity: matrices * o * c) }
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(partials) {} }
        // Each group reads and writes back every dU_ξ (float32; bfloat16 V and dM at bfloat16
        // precision are counted as float32 here).
        let tileBytes = matrices * 4 * (c + o), filterBytes = 2 * matrices * 4 * o * c
        Parallel.blocks(n, blocks: blocks) { t, lo, hi in
            let gs = imagesPerGroup(
                hi - lo, tilesPerImage: tilesPerImage, target: target, tileBytes: tileBytes, filterBytes: filterBytes)
            let v = TensorStorage(capacity: matrices * planeStride(c, gs * tilesPerImage))
            // Raw pointers into it are used below: keep it alive to the end of the scope.
            defer { withExtendedLifetime(v) {} }
            let dm = TensorStorage(capacity: matrices * planeStride(o, gs * tilesPerImage))
            // Raw pointers into it are used below: keep it alive to the end of the scope.
            defer { withExtendedLifetime(dm) {} }
            let du = partials[t].pointer
            var first = true
            var i = lo
            while i < hi {
                let count = min(gs, hi - i), tiles = count * tilesPerImage
                let vp = v.pointer, mp = dm.pointer
                if !largeTiles, bfloat16Rows, takesBFloat16Rows(m: o, n: c, k: tiles) {
                    bfloat16Products(
                        x: x, gy: gy, images: i..<(i + count), inChannels: c, outChannels: o, height: h, width: w,
                        v: UnsafeMutableRawPointer(vp), dm: UnsafeMutableRawPointer(mp), parallel: inner,
                        beta: first ? 0 : 1, into: du)
                    first = false
                    i += count
                    continue
                }
                let vStride = planeStride(c, tiles), mStride = planeStride(o, tiles)
                forEach(c, parallel: inner) { c0, c1 in
                    transformInputs(
                        tile: tile, x, images: i..<(i + count), inChannels: c, channels: c0, c1, height: h, width: w,
                        into: vp, ldT: tiles, planeStride: vStride)
                }
                forEach(o, parallel: inner) { o0, o1 in
                    for j in 0..<count {
                        let image = gy + (i + j) * o * h * w
                        if largeTiles {
                            let transform =
                                usesVectorTransforms ? tkwino43_output_gradient_transform : tkwino43_avx2_output_gradient_transform
                            transform(image, o0, o1, h, w, mp, tiles, j * tilesPerImage, mStride)
                        } else if usesVectorTransforms || usesAVX2Transforms {
                            let transform =
                                usesAVX2Transforms ? tkwino_avx2_output_gradient_transform : tkwino_output_gradient_transform
                            transform(image, o0, o1, h, w, mp, tiles, j * tilesPerImage, mStride)
                        } else {
                            outputGradientTransform(
                                image, channels: o0, o1, height: h, width: w,
                                into: mp, ldT: tiles, tileOffset: j * tilesPerImage, channelStride: mStride)
                        }
                    }
                }
                let beta: Float = first ? 0 : 1
                forEach(matrices, parallel: inner) { x0, x1 in
                    for xi in x0..<x1 {
                        BLAS.gemm(
                            .none, .transposed, m: o, n: c, k: tiles, a: mp + xi * mStride, lda: tiles,
                            b: vp + xi * vStride, ldb: tiles, beta: beta, c: du + xi * o * c, ldc: c)
                    }
                }
                first = false
                i += count
            }
        }
        filterGradient(partials, planes: o * c, largeTiles: largeTiles, into: dw)
    }

    /// Whether the weight gradient's product `dU_ξ[m × n] += dM_ξ · V_ξᵀ` (k tiles) runs on
    /// bfloat16 operands written by the transforms themselves
    /// (``bfloat16Products(x:gy:images:inChannels:outChannels:height:width:v:dm:parallel:beta:into:)``):
    /// where `BLAS.gemm` would run it with `vdpbf16ps` on float32 operands rounded while packed
    /// (bfloat16 precision, AVX512_BF16, TensorKit's GEMM and a large enough product), with the
    /// AVX-512 transforms. The same values reach the same kernel in the same order either way.
    static func takesBFloat16Rows(m: Int, n: Int, k: Int, _ configuration: KernelConfiguration = .current) -> Bool {
        configuration.precision == .bfloat16 && configuration.usesVectorWinograd && KernelConfiguration.isBFloat16Available
            && BLAS.kernel(m: m, n: n, k: k, configuration) == .tensorKit
    }

    /// One group of images of ``weightGradient(x:gy:batch:inChannels:outChannels:height:width:largeTiles:bfloat16Rows:into:)``
    /// on 2×2 tiles at bfloat16: both transforms round to bfloat16 as they store (half the bytes
    /// of float32 planes to write and read back), and the 16 products
    /// `dU_ξ = dM_ξ · V_ξᵀ + beta · dU_ξ` take them as they are (`tkgemm_sgemm_bf16_nt_rows`).
    /// `v` and `dm` hold at least 16 planes of ``planeStride(_:_:)`` floats for `c` and `o` rows.
    private static func bfloat16Products(
        x: UnsafePointer<Float>, gy: UnsafePointer<Float>, images: Range<Int>, inChannels c: Int,
        outChannels o: Int, height h: Int, width w: Int, v: UnsafeMutableRawPointer, dm: UnsafeMutableRawPointer,
        parallel: Bool, beta: Float, into du: UnsafeMutablePointer<Float>
    ) {
        let tilesPerImage = ((h + 1) / 2) * ((w + 1) / 2), tiles = images.count * tilesPerImage
        let vp = v.assumingMemoryBound(to: UInt16.self), mp = dm.assumingMemoryBound(to: UInt16.self)
        let vStride = planeStride(c, tiles), mStride = planeStride(o, tiles)
        forEach(c, parallel: parallel) { c0, c1 in
            for (j, image) in images.enumerated() {
                tkwino_input_transform_bf16_rows(x + image * c * h * w, c0, c1, h, w, vp, tiles, j * tilesPerImage, vStride)
            }
        }
        forEach(o, parallel: parallel) { o0, o1 in
            for (j, image) in images.enumerated() {
                tkwino_output_gradient_transform_bf16_rows(
                    gy + image * o * h * w, o0, o1, h, w, mp, tiles, j * tilesPerImage, mStride)
            }
        }
        forEach(16, parallel: parallel) { x0, x1 in
            for xi in x0..<x1 {
                tkgemm_sgemm_bf16_nt_rows(
                    o, c, tiles, mp + xi * mStride, tiles, vp + xi * vStride, tiles, beta, du + xi * o * c, c)
            }
        }
    }

    /// `dw = Gᵀ dU G` for every (o, c), `dU` the sum of `parts` (each the 16 matrices of
    /// F(2×2, 3×3), or with `largeTiles` the 36 of F(4×4, 3×3), `planes` = O·C floats apart),
    /// added in order as they are read; eight (o, c) pairs per SIMD step, with `vector` in C.
    static func filterGradient(
        _ parts: [TensorStorage], planes plane: Int, largeTiles: Bool, vector: Bool = usesVectorFilterGradient(.current),
        into dw: UnsafeMutablePointer<Float>
    ) {
        let count = parts.count
        // Optional: C's `const float *const *` as `tkwino_avx2_filter_gradient` takes it.
        let pointers = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: count)
        defer { pointers.deallocate() }
        for (k, part) in parts.enumerated() { pointers[k] = UnsafePointer(part.pointer) }
        // Raw pointers into them are used below: keep them alive to the end of the scope.
        defer { withExtendedLifetime(parts) {} }
        let side = largeTiles ? 6 : 4
        Parallel.forRange((plane + 7) / 8, grain: 1, cost: 8 * side * side * 4) { lo, hi in
            if vector {
                tkwino_avx2_filter_gradient(pointers, count, plane, largeTiles ? 1 : 0, 8 * lo, min(plane, 8 * hi), dw)
                return
            }
            for block in lo..<hi {
                filterGradient(
                    UnsafePointer(pointers), count: count, planes: plane, at: 8 * block, largeTiles: largeTiles, into: dw)
            }
        }
    }

    /// Whether ``filterGradient(_:planes:largeTiles:vector:into:)`` runs `tkwino_avx2_filter_gradient`
    /// (the same operations in the same order, eight pairs per AVX2 vector): with the AVX2 or the
    /// AVX-512 transforms. This Swift code compiles for baseline x86-64 (SSE), its `SIMD8` in
    /// halves. The weight gradient's 4×4 tiles need the same (their output-gradient transform is
    /// the AVX2 one in both sets).
    static func usesVectorFilterGradient(_ configuration: KernelConfiguration) -> Bool {
        (configuration.usesAVX2Winograd || configuration.usesVectorWinograd) && KernelConfiguration.isAVX2Available
    }

    /// ``filterGradient(_:planes:largeTiles:vector:into:)`` of pairs `at ..< at + 8` (fewer at the end).
    private static func filterGradient(
        _ parts: UnsafePointer<UnsafePointer<Float>?>, count: Int, planes plane: Int, at: Int, largeTiles: Bool,
        into dw: UnsafeMutablePointer<Float>
    ) {
        let side = largeTiles ? 6 : 4, lanes = min(8, plane - at)
        // dU[i][j] of the eight pairs.
        @inline(__always) func u(_ i: Int, _ j: Int) -> SIMD8<Float> {
            let offset = (side * i + j) * plane + at
            var sum = load8(parts[0]! + offset, lanes)
            for k in 1..<count { sum += load8(parts[k]! + offset, lanes) }
            return sum
        }
        let r = largeTiles ? sandwich6(u) : sandwich4(u)
        for l in 0..<lanes {
            let out = dw + (at + l) * 9
            out[0] = r.0.0[l]
            out[1] = r.0.1[l]
            out[2] = r.0.2[l]
            out[3] = r.1.0[l]
            out[4] = r.1.1[l]
            out[5] = r.1.2[l]
            out[6] = r.2.0[l]
            out[7] = r.2.1[l]
            out[8] = r.2.2[l]
        }
    }

    /// The 8 floats at `p`, or the first `lanes` of them and zeros.
    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>, _ lanes: Int) -> SIMD8<Float> {
        if lanes == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>.zero
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    /// Three values for eight (o, c) pairs: a row of a 3×3 filter gradient, one pair per lane.
    private typealias Triple = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

    /// `Gᵀ dU G` (rows of the 3×3 result) of F(2×2, 3×3)'s `G` (rows (1, 0, 0), (1, 1, 1)/2,
    /// (1, −1, 1)/2, (0, 0, 1)) from `u(i, j)` = dU[i][j], one (o, c) pair per lane.
    @inline(__always)
    private static func sandwich4(
        _ u: (Int, Int) -> SIMD8<Float>
    ) -> (Triple, Triple, Triple) {
        typealias V = SIMD8<Float>
        /// `Gᵀ a` (3 values) of 4 values `a`.
        @inline(__always) func gTransposed(_ a0: V, _ a1: V, _ a2: V, _ a3: V) -> (V, V, V) {
            (a0 + 0.5 * (a1 + a2), 0.5 * (a1 - a2), 0.5 * (a1 + a2) + a3)
        }
        // t = Gᵀ dU, column by column (t[k][j] is the k-th of column j's three), then dw = t G:
        // row k of dw is Gᵀ applied to row k of t.
        @inline(__always) func column(_ j: Int) -> (V, V, V) { gTransposed(u(0, j), u(1, j), u(2, j), u(3, j)) }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        return (
            gTransposed(c0.0, c1.0, c2.0, c3.0), gTransposed(c0.1, c1.1, c2.1, c3.1),
            gTransposed(c0.2, c1.2, c2.2, c3.2)
        )
    }

    /// `Gᵀ dU G` as ``sandwich4(_:)`` with F(4×4, 3×3)'s `G` of `WINO43_FILTER` (points 0, ±3/4,
    /// ±3/2: ``Filters/largeTileFilterRows``), in the operations of `WINO43_FILTER_GRADIENT`.
    @inline(__always)
    private static func sandwich6(
        _ u: (Int, Int) -> SIMD8<Float>
    ) -> (Triple, Triple, Triple) {
        typealias V = SIMD8<Float>
        /// `Gᵀ a` (3 values) of 6 values `a`.
        @inline(__always) func gTransposed(_ a0: V, _ a1: V, _ a2: V, _ a3: V, _ a4: V, _ a5: V) -> (V, V, V) {
            let n0: Float = 64 / 81, na: Float = -128 / 243, nb: Float = 32 / 243
            let s12 = a1 + a2, d12 = a1 - a2, s34 = a3 + a4, d34 = a3 - a4
            let t1 = Float(-32) / 81 * d12 + Float(16) / 81 * d34
            return (n0 * a0 + na * s12 + nb * s34, t1, Float(8) / 27 * (s34 - s12) + a5)
        }
        @inline(__always) func column(_ j: Int) -> (V, V, V) {
            gTransposed(u(0, j), u(1, j), u(2, j), u(3, j), u(4, j), u(5, j))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
        return (
            gTransposed(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0), gTransposed(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1),
            gTransposed(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2)
        )
    }

    /// `dM[ξ][o][t] = (A dY Aᵀ)[ξ]` for the 2×2 output-gradient tiles of channels `o0..<o1` of
    /// one image (zero beyond the map), four tiles per SIMD step.
    private static func outputGradientTransform(
        _ gy: UnsafePointer<Float>, channels o0: Int, _ o1: Int,
        height h: Int, width w: Int, into m: UnsafeMutablePointer<Float>,
        ldT: Int, tileOffset: Int, channelStride: Int
    ) {
        let th = (h + 1) / 2, tw = (w + 1) / 2
        let twp = (tw + 3) / 4 * 4
        let hp = 2 * th, wp = 2 * twp + 8
        let padded = TensorStorage(zeros: hp * wp)
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(padded) {} }
        let pp = padded.pointer
        for oc in o0..<o1 {
            let src = gy + oc * h * w
            for r in 0..<h { Short.copy(pp + r * wp, src + r * w, count: w) }
            let base = m + oc * ldT + tileOffset
            for ti in 0..<th {
                var tj = 0
                while tj < tw {
                    let r0 = UnsafeRawPointer(pp + 2 * ti * wp + 2 * tj).loadUnaligned(as: SIMD8<Float>.self)
                    let r1 = UnsafeRawPointer(pp + (2 * ti + 1) * wp + 2 * tj).loadUnaligned(as: SIMD8<Float>.self)
                    let a = r0.evenHalf, b = r0.oddHalf, cc = r1.evenHalf, d = r1.oddHalf
                    // Rows of A dY: (a, b), (a + c, b + d), (a − c, b − d), (−c, −d); then · Aᵀ.
                    let rows = ((a, b), (a + cc, b + d), (a - cc, b - d), (-cc, -d))
                    let t = ti * tw + tj
                    let o = base + t
                    let lanes = min(4, tw - tj)
                    @inline(__always) func put(_ xi: Int, _ value: SIMD4<Float>) {
                        if lanes == 4 {
                            UnsafeMutableRawPointer(o + xi * channelStride).storeBytes(of: value, as: SIMD4<Float>.self)
                        } else {
                            for l in 0..<lanes { o[xi * channelStride + l] = value[l] }
                        }
                    }
                    @inline(__always) func row(_ r: Int, _ pq: (SIMD4<Float>, SIMD4<Float>)) {
                        put(4 * r, pq.0); put(4 * r + 1, pq.0 + pq.1); put(4 * r + 2, pq.0 - pq.1); put(4 * r + 3, -pq.1)
                    }
                    row(0, rows.0); row(1, rows.1); row(2, rows.2); row(3, rows.3)
                    tj += 4
                }
            }
        }
    }

    /// Floats from one ξ's matrix to the next in V and M (`rows × tiles` of them): rounded up to
    /// whole 64-byte lines, and an odd number of lines. The transforms write and read the 16 or
    /// 36 matrices of each tile at once; with a stride that is a multiple of 4 KiB (layer3 at
    /// batch 16: 256 × 112 floats) those accesses all fall in one L1 set (and layer4's in one
    /// L2 set), and the transforms ran 1.3-3.8x slower (Docs/Benchmarks.md).
    static func planeStride(_ rows: Int, _ tiles: Int) -> Int {
        let lines = (rows * tiles + 15) / 16
        return (lines | 1) * 16
    }

    /// Workers split the batch when each gets at least `target` tiles (``targetTiles`` unless given); on small maps
    /// (layer4: 14 tiles an image) all workers share one group of every image instead and share
    /// out the 16 GEMMs between them, so each GEMM is twice as wide.
    static func blockCount(batch n: Int, tilesPerImage: Int, target: Int = targetTiles) -> Int {
        let perWorker = (n + Parallel.workers - 1) / max(Parallel.workers, 1) * tilesPerImage
        return perWorker >= target ? Parallel.blockCount(n) : 1
    }

    /// Images transformed and multiplied together, at most enough for `target` tiles: the count
    /// that moves the fewest bytes per tile, counting the filters (`filterBytes`, streamed once a
    /// group) and the part of a group's transformed data (`tileBytes` a tile: V and M) beyond
    /// ``KernelConfiguration/winogradGroupBytes``, written out and read back. Small filters take
    /// groups that stay in the caches (layer2 and 3 of the ResNet at batch 16: one and two
    /// images), large ones the whole batch (layer4: 16 MB of filters).
    static func imagesPerGroup(
        _ images: Int, tilesPerImage: Int, target: Int, tileBytes: Int, filterBytes: Int,
        _ configuration: KernelConfiguration = .current
    ) -> Int {
        let most = max(1, min(images, (target + tilesPerImage - 1) / tilesPerImage))
        var best = 1, bestCost = Double.infinity
        for gs in 1...most {
            let tiles = gs * tilesPerImage
            let footprint = Double(tiles * tileBytes)
            let spilled = max(0, 1 - Double(configuration.winogradGroupBytes) / footprint)
            let cost = Double(filterBytes) / Double(tiles) + 2 * Double(tileBytes) * spilled
            if cost <= bestCost { (best, bestCost) = (gs, cost) }
        }
        return best
    }

    /// `body` over pieces of `0..<count`: the whole range at once, or with `parallel` about four
    /// pieces per worker (``evenPiece(_:workers:)``), claimed by the workers as they finish the
    /// last (each piece's result is the same whoever computes it).
    @inline(__always)
    private static func forEach(_ count: Int, parallel: Bool, _ body: (Int, Int) -> Void) {
        guard parallel else { return body(0, count) }
        let blocks = Parallel.blockCount(count)
        Parallel.claiming(count, chunk: evenPiece(count, workers: blocks), blocks: blocks) { _, next in
            while let piece = next() { body(piece.lowerBound, piece.upperBound) }
        }
    }

    /// The largest piece of at most `count / (4 · workers)` items that `workers` claiming in
    /// turn share out as evenly as single items: F(4×4)'s 36 products in pieces of 4 came to
    /// 5 pieces for one worker and 4 for the other, which then waited a fifth of the phase.
    static func evenPiece(_ count: Int, workers: Int) -> Int {
        let workers = max(workers, 1), most = max(1, count / (4 * workers))
        let fair = (count + workers - 1) / workers
        for piece in stride(from: most, to: 1, by: -1) {
            let pieces = (count + piece - 1) / piece
            if (pieces + workers - 1) / workers * piece <= fair { return piece }
        }
        return 1
    }

    /// The input transform of `tile` × `tile` output tiles (2: F(2×2, 3×3), 4: F(4×4, 3×3)), as
    /// ``transformInputs(_:images:inChannels:channels:_:height:width:into:ldT:planeStride:)`` or
    /// ``transformInputs4x4(_:images:inChannels:channels:_:height:width:into:ldT:planeStride:)``.
    private static func transformInputs(
        tile: Int, _ x: UnsafePointer<Float>, images: Range<Int>, inChannels c: Int,
        channels c0: Int, _ c1: Int, height h: Int, width w: Int,
        into v: UnsafeMutablePointer<Float>, ldT: Int, planeStride: Int
    ) {
        if tile == 4 {
            transformInputs4x4(
                x, images: images, inChannels: c, channels: c0, c1, height: h, width: w, into: v, ldT: ldT,
                planeStride: planeStride)
        } else {
            transformInputs(
                x, images: images, inChannels: c, channels: c0, c1, height: h, width: w, into: v, ldT: ldT,
                planeStride: planeStride)
        }
    }

    /// `tkwino43_input_transform` (F(4×4, 3×3); its AVX2 twin with the AVX2 kernels) of channels `c0..<c1` of `images`, side by side
    /// in `v` as ``transformInputs(_:images:inChannels:channels:_:height:width:into:ldT:planeStride:)`` lays them.
    private static func transformInputs4x4(
        _ x: UnsafePointer<Float>, images: Range<Int>, inChannels c: Int,
        channels c0: Int, _ c1: Int, height h: Int, width w: Int,
        into v: UnsafeMutablePointer<Float>, ldT: Int, planeStride: Int
    ) {
        let tilesPerImage = ((h + 3) / 4) * ((w + 3) / 4)
        let scratch = TensorStorage(capacity: tkwino43_input_scratch(h, w))
        defer { withExtendedLifetime(scratch) {} }
        let transform = usesAVX2Transforms ? tkwino43_avx2_input_transform : tkwino43_input_transform
        for (j, image) in images.enumerated() {
            transform(
                x + image * c * h * w, c0, c1, h, w, v, ldT, j * tilesPerImage, planeStride, scratch.pointer)
        }
    }

    /// ``inputTransform(_:channels:_:height:width:into:ldT:tileOffset:channelStride:)`` of
    /// channels `c0..<c1` of `images` (of `x[N, C, H, W]`), side by side in `v` (`ldT` tiles
    /// per channel row, `planeStride` floats from one ξ to the next) from tile 0.
    private static func transformInputs(
        _ x: UnsafePointer<Float>, images: Range<Int>, inChannels c: Int,
        channels c0: Int, _ c1: Int, height h: Int, width w: Int,
        into v: UnsafeMutablePointer<Float>, ldT: Int, planeStride channelStride: Int
    ) {
        let tilesPerImage = ((h + 1) / 2) * ((w + 1) / 2)
        if usesVectorTransforms || usesAVX2Transforms {
            let scratch = TensorStorage(capacity: tkwino_input_scratch(h, w))
            defer { withExtendedLifetime(scratch) {} }
            let transform = usesAVX2Transforms ? tkwino_avx2_input_transform : tkwino_input_transform
            for (j, image) in images.enumerated() {
                transform(
                    x + image * c * h * w, c0, c1, h, w, v, ldT, j * tilesPerImage, channelStride,
                    scratch.pointer)
            }
            return
        }
        for (j, image) in images.enumerated() {
            inputTransform(
                x + image * c * h * w, channels: c0, c1, height: h, width: w,
                into: v, ldT: ldT, tileOffset: j * tilesPerImage, channelStride: channelStride)
        }
    }

    /// `V[ξ][c][t] = (Bᵀ d B)[ξ]` for the 4×4 input tiles `d` of channels `c0..<c1` of one image.
    ///
    /// Four horizontally adjacent tiles are transformed at once, one per SIMD lane: their
    /// columns are the even and odd lanes of two 8-wide loads from a zero-padded copy of the
    /// channel (so no tile needs bounds checks).
    private static func inputTransform(
        _ x: UnsafePointer<Float>, channels c0: Int, _ c1: Int, height h: Int, width w: Int,
        into v: UnsafeMutablePointer<Float>, ldT: Int, tileOffset: Int, channelStride: Int
    ) {
        let th = (h + 1) / 2, tw = (w + 1) / 2
        let twp = (tw + 3) / 4 * 4
        let hp = 2 * th + 2, wp = 2 * twp + 8
        let padded = TensorStorage(zeros: hp * wp)
        // Raw pointers into it are used below: keep it alive to the end of the scope.
        defer { withExtendedLifetime(padded) {} }
        let pp = padded.pointer
        for ch in c0..<c1 {
            let xc = x + ch * h * w
            // Padded row r + 1 holds input row r at columns 1…w; the rest stays zero.
            for r in 0..<h { Short.copy(pp + (r + 1) * wp + 1, xc + r * w, count: w) }
            let base = v + ch * ldT + tileOffset
            for ti in 0..<th {
                var tj = 0
                while tj < tw {
                    @inline(__always) func columns(_ r: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                        let p = UnsafeRawPointer(pp + (2 * ti + r) * wp + 2 * tj)
                        let a = p.loadUnaligned(as: SIMD8<Float>.self)
                        let b = p.loadUnaligned(fromByteOffset: 8, as: SIMD8<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                    let d0 = columns(0), d1 = columns(1), d2 = columns(2), d3 = columns(3)
                    let t = ti * tw + tj
                    // Rows of Bᵀ d, then columns of (Bᵀ d) B: out[4r + j].
                    let e0 = (d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3)
                    let e1 = (d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3)
                    let e2 = (d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3)
                    let e3 = (d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3)
                    let o = base + t
                    if tj + 4 <= tw {
                        @inline(__always) func put(_ xi: Int, _ value: SIMD4<Float>) {
                            UnsafeMutableRawPointer(o + xi * channelStride).storeBytes(of: value, as: SIMD4<Float>.self)
                        }
                        @inline(__always) func row(_ r: Int, _ s: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)) {
                            put(4 * r, s.0 - s.2); put(4 * r + 1, s.1 + s.2); put(4 * r + 2, s.2 - s.1); put(4 * r + 3, s.1 - s.3)
                        }
                        row(0, e0); row(1, e1); row(2, e2); row(3, e3)
                    } else {
                        let lanes = tw - tj
                        func put(_ xi: Int, _ value: SIMD4<Float>) {
                            for l in 0..<lanes { o[xi * channelStride + l] = value[l] }
                        }
                        func row(_ r: Int, _ s: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)) {
                            put(4 * r, s.0 - s.2); put(4 * r + 1, s.1 + s.2); put(4 * r + 2, s.2 - s.1); put(4 * r + 3, s.1 - s.3)
                        }
                        row(0, e0); row(1, e1); row(2, e2); row(3, e3)
                    }
                    tj += 4
                }
            }
        }
    }

    /// `y[o] = Aᵀ M A + bias` for output channels `o0..<o1` of one image, four tiles at a time.
    private static func outputTransform(
        _ m: UnsafePointer<Float>, outChannels o0: Int, _ o1: Int, ldT: Int,
        tileOffset: Int, channelStride: Int, height h: Int, width w: Int,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        let th = (h + 1) / 2, tw = (w + 1) / 2
        for oc in o0..<o1 {
            let b = SIMD4<Float>(repeating: bias?[oc] ?? 0)
            let base = m + oc * ldT + tileOffset
            let yc = y + oc * h * w
            for ti in 0..<th {
                var tj = 0
                while tj < tw {
                    let t = ti * tw + tj
                    let lanes = min(4, tw - tj)
                    let p = base + t
                    let m0, m1, m2, m3: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
                    if lanes == 4 {
                        // Straight vector loads for full blocks; the per-load lane check stalled.
                        @inline(__always) func v(_ xi: Int) -> SIMD4<Float> {
                            UnsafeRawPointer(p + xi * channelStride).loadUnaligned(as: SIMD4<Float>.self)
                        }
                        m0 = (v(0), v(1), v(2), v(3)); m1 = (v(4), v(5), v(6), v(7))
                        m2 = (v(8), v(9), v(10), v(11)); m3 = (v(12), v(13), v(14), v(15))
                    } else {
                        @inline(never) func partial(_ xi: Int) -> SIMD4<Float> {
                            var s = SIMD4<Float>()
                            for l in 0..<lanes { s[l] = p[xi * channelStride + l] }
                            return s
                        }
                        m0 = (partial(0), partial(1), partial(2), partial(3)); m1 = (partial(4), partial(5), partial(6), partial(7))
                        m2 = (partial(8), partial(9), partial(10), partial(11)); m3 = (partial(12), partial(13), partial(14), partial(15))
                    }
                    // Rows of Aᵀ M (s0, s1), then columns of (Aᵀ M) A.
                    let s0 = (m0.0 + m1.0 + m2.0, m0.1 + m1.1 + m2.1, m0.2 + m1.2 + m2.2, m0.3 + m1.3 + m2.3)
                    let s1 = (m1.0 - m2.0 - m3.0, m1.1 - m2.1 - m3.1, m1.2 - m2.2 - m3.2, m1.3 - m2.3 - m3.3)
                    let y00 = s0.0 + s0.1 + s0.2 + b, y01 = s0.1 - s0.2 - s0.3 + b
                    let y10 = s1.0 + s1.1 + s1.2 + b, y11 = s1.1 - s1.2 - s1.3 + b
                    let col = 2 * tj
                    @inline(__always) func write(_ row: Int, _ even: SIMD4<Float>, _ odd: SIMD4<Float>) {
                        let dst = yc + row * w + col
                        if col + 8 <= w {
                            let lo = SIMD4<Float>(even[0], odd[0], even[1], odd[1])
                            let hi = SIMD4<Float>(even[2], odd[2], even[3], odd[3])
                            UnsafeMutableRawPointer(dst).storeBytes(of: lo, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(dst + 4).storeBytes(of: hi, as: SIMD4<Float>.self)
                        } else {
                            for l in 0..<lanes {
                                dst[2 * l] = even[l]
                                if col + 2 * l + 1 < w { dst[2 * l + 1] = odd[l] }
                            }
                        }
                    }
                    write(2 * ti, y00, y01)
                    if 2 * ti + 1 < h { write(2 * ti + 1, y10, y11) }
                    tj += 4
                }
            }
        }
    }
}
