import XCTest
@testable import TensorKit
import _TestSupport

/// conv2d against PyTorch (`F.conv2d` in float64) and finite differences.
final class ConvolutionTests: XCTestCase {
    static let cases = [
        "conv_3x3_pad1", "conv_3x3_s2_odd_b1", "conv_1x1_grouped", "conv_1x1_s2", "conv_7x7_s2_stem",
        "conv_1x1map", "conv_small_planes", "conv_1x1_b1_large", "conv_3x3_large_b2", "conv_3x3_s2_even",
    ]

    func testAgreesWithPyTorch() throws {
        for winograd in [true, false] {
            // Force the Winograd path on these small maps, or keep it off entirely.
            try KernelConfiguration.withCurrent(changing: {
                $0.winograd = winograd; $0.winogradMinimumTilesPerWorker = 0
            }) {
                for c in Self.cases { try assertConvolutionMatchesFixture(c, "\(c), Winograd \(winograd)") }
            }
        }
    }

    /// The Winograd transforms of this CPU's kernel set, and the AVX2 ones where it has them.
    private var winogradKernelSets: [KernelConfiguration.KernelSet] {
        var sets = [KernelConfiguration.current.kernelSet]
        if KernelConfiguration.isAVX2Available, sets[0] != .avx2 { sets.append(.avx2) }
        return sets
    }

    /// Winograd forced on with `kernels`, in groups of images bounded by `tiles` (both tile sizes)
    /// and by `bytes` of transformed data.
    private func group(_ c: inout KernelConfiguration, _ kernels: KernelConfiguration.KernelSet, tiles: Int, bytes: Int) {
        c.kernelSet = kernels
        c.winograd = true
        c.winogradMinimumTilesPerWorker = 0
        c.winogradTargetTiles = tiles
        c.winogradLargeTargetTiles = tiles
        c.winogradGroupBytes = bytes
    }

    /// Winograd with the batch split over workers in groups of one or several images, and with
    /// all workers sharing one group (the small-map mode); groups bounded by tiles and by bytes,
    /// and (AVX2 transforms) images in bands of tile rows: one row a band with 1 byte.
    func testWinogradBatchSplitsAgreeWithPyTorch() throws {
        let groups = [(1, Int.max), (40, Int.max), (100_000, Int.max), (100_000, 20_000), (1, 1)]
        for kernels in winogradKernelSets {
            for (tiles, bytes) in groups {
                try KernelConfiguration.withCurrent(changing: { group(&$0, kernels, tiles: tiles, bytes: bytes) }) {
                    for c in ["conv_3x3_pad1", "conv_small_planes", "conv_3x3_large_b2", "conv_1x1map"] {
                        try assertConvolutionMatchesFixture(c, "\(c), target \(tiles) tiles, \(bytes) bytes, \(kernels)")
                    }
                }
            }
        }
    }

    /// The channel moments the AVX2 output transforms add up as they store y, in every grouping
    /// mode (groups, one shared group, bands) and both tile sizes, against float64 sums of y;
    /// none where the convolution does not add them up (other kernel sets, strided layers); and
    /// batch norm's statistics from them against its own pass over y.
    func testConvolutionMomentsAreTheSumsOfItsOutput() throws {
        let x = randomTensor([5, 16, 12, 20], seed: 21, shift: 0.3), w = randomTensor([24, 16, 3, 3], seed: 22, scale: 0.2)
        let modes = [(1, Int.max), (40, Int.max), (100_000, Int.max), (1, 1)]
        for kernels in winogradKernelSets {
            for (tiles, bytes) in modes {
                for large in [false, true] {
                    let what = "\(kernels), target \(tiles) tiles, \(bytes) bytes, F(\(large ? 4 : 2)x\(large ? 4 : 2))"
                    try KernelConfiguration.withCurrent(changing: {
                        group(&$0, kernels, tiles: tiles, bytes: bytes)
                        $0.winogradLargeTilesForward = large
                    }) {
                        let (y, moments) = conv2d(x, weight: w, stride: (1, 1), padding: (1, 1), collectingMoments: true)
                        guard kernels == .avx2, KernelConfiguration.isAVX2Available else {
                            XCTAssertNil(moments, what)
                            return
                        }
                        let m = try XCTUnwrap(moments, what)
                        XCTAssertEqual(m.count, 5 * 12 * 20, what)
                        let ys = y.scalars, plane = 12 * 20
                        for c in 0..<24 {
                            var sum = 0.0, squares = 0.0, size = 0.0
                            for b in 0..<5 {
                                for i in 0..<plane {
                                    let v = Double(ys[(b * 24 + c) * plane + i])
                                    sum += v
                                    squares += v * v
                                    size += abs(v) + v * v
                                }
                            }
                            XCTAssertEqual(m.sums[c], sum, accuracy: 1e-13 * size, "\(what): Σ y of channel \(c)")
                            XCTAssertEqual(m.squares[c], squares, accuracy: 1e-13 * size, "\(what): Σ y² of channel \(c)")
                        }
                        // Batch norm from the moments: the statistics of its own two passes.
                        var rm1 = Tensor(zeros: [24]), rv1 = Tensor(repeating: 1, shape: [24])
                        var rm2 = rm1, rv2 = rv1
                        let own = batchNorm2d(y, weight: nil, bias: nil, runningMean: &rm1, runningVar: &rv1, training: true)
                        let fromMoments = batchNorm2d(
                            y, weight: nil, bias: nil, runningMean: &rm2, runningVar: &rv2, training: true, moments: m)
                        assertAllClose(fromMoments.scalars, own.scalars, rtol: 1e-5, "\(what): batch norm")
                        assertAllClose(rm2.scalars, rm1.scalars, rtol: 1e-6, "\(what): running mean")
                        assertAllClose(rv2.scalars, rv1.scalars, rtol: 1e-6, "\(what): running variance")
                    }
                }
            }
        }
        let strided = conv2d(x, weight: w, stride: (2, 2), padding: (1, 1), collectingMoments: true)
        XCTAssertNil(strided.moments, "an im2col convolution adds up no moments")
    }

    /// The workers claim groups of images (and, sharing one group, pieces of the channels and
    /// of the Winograd matrices) as they finish the last: however the claims fall, the forward
    /// pass and the input gradient are bit for bit those of one worker, in every grouping mode
    /// (a skipped or doubled group would leave garbage or differ).
    func testWinogradClaimsGiveOneWorkersBits() throws {
        let x = randomTensor([5, 16, 12, 20], seed: 11), w = randomTensor([24, 16, 3, 3], seed: 12, scale: 0.2)
        let gy = randomTensor([5, 24, 12, 20], seed: 13)
        // (target tiles, group bytes): one image a group, several, one group shared by all, bands.
        let modes = [(1, Int.max), (40, Int.max), (100_000, Int.max), (1, 1)]
        for kernels in winogradKernelSets {
            for (tiles, bytes) in modes {
                for large in [false, true] {
                    func run(threads: Int) -> (y: [Float], dx: [Float]) {
                        KernelConfiguration.withCurrent(changing: {
                            group(&$0, kernels, tiles: tiles, bytes: bytes)
                            $0.threads = threads
                            $0.winogradLargeTiles = large
                            $0.winogradLargeTileTrainingMinimum = 0
                        }) {
                            let input = x.requiringGrad()
                            let y = conv2d(input, weight: w, padding: 1)
                            y.backward(gradient: gy)
                            return (y.scalars, input.grad?.scalars ?? [])
                        }
                    }
                    // Several workers first: a buffer handed back by the pool then holds no
                    // right answer that a skipped group could leave in place.
                    let many = [3, 2].map { run(threads: $0) }
                    let one = run(threads: 1)
                    let what = "\(kernels), target \(tiles) tiles, \(bytes) bytes, F(4x4) input gradient \(large)"
                    for (threads, result) in zip([3, 2], many) {
                        XCTAssertEqual(result.y, one.y, "forward, \(threads) workers, \(what)")
                        XCTAssertEqual(result.dx, one.dx, "input gradient, \(threads) workers, \(what)")
                    }
                    XCTAssertEqual(one.dx.count, x.count, what)
                }
            }
        }
    }

    func testGroupedAndUngroupedPathsAgreeWithPyTorch() throws {
        // The same fixture through different GEMM groupings (one image per GEMM, many per GEMM).
        for columns in [1, 64, 100_000] {
            try KernelConfiguration.withCurrent(changing: { $0.convolutionColumns = columns }) {
                for c in ["conv_small_planes", "conv_1x1_grouped", "conv_3x3_s2_even"] {
                    try assertConvolutionMatchesFixture(c, "\(c), \(columns) columns")
                }
            }
        }
    }

    func testFiniteDifferences() {
        let x = randomTensor([2, 3, 5, 6], seed: 1), w = randomTensor([4, 3, 3, 3], seed: 2, scale: 0.3)
        let b = randomTensor([4], seed: 3)
        gradCheck([x, w, b], "conv 3x3 s2 p1") { t in conv2d(t[0], weight: t[1], bias: t[2], stride: 2, padding: 1) }
        KernelConfiguration.withCurrent(changing: { $0.winogradMinimumTilesPerWorker = 0 }) {
            gradCheck([x, w, b], "conv 3x3 s1 p1 (Winograd)") { t in conv2d(t[0], weight: t[1], bias: t[2], stride: 1, padding: 1) }
        }
        let w1 = randomTensor([5, 3, 1, 1], seed: 4)
        gradCheck([x, w1], "conv 1x1") { t in conv2d(t[0], weight: t[1]) }
    }

    /// Images unfolded side by side for one im2col GEMM: frozen filters group up to
    /// `convolutionColumns` (2048) columns, training's at most 512 (layer2's strided 3×3 at
    /// 864 columns an image: one image; layer3's at 216: three).
    func testTrainingGroupsFewerImagesPerIm2colProduct() {
        func geometry(_ c: Int, _ h: Int, _ w: Int) -> ConvGeometry {
            ConvGeometry(
                batch: 16, inChannels: c, height: h, width: w, outChannels: 2 * c,
                kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1)
        }
        let layer2 = geometry(64, 32, 108), layer3 = geometry(128, 16, 54)
        XCTAssertEqual(layer2.plane, 864)
        XCTAssertEqual(ConvKernels.groupSize(layer2, imagesPerWorker: 8, frozen: true), 3)
        XCTAssertEqual(ConvKernels.groupSize(layer2, imagesPerWorker: 8, frozen: false), 1)
        XCTAssertEqual(ConvKernels.groupSize(layer3, imagesPerWorker: 8, frozen: true), 8)
        XCTAssertEqual(ConvKernels.groupSize(layer3, imagesPerWorker: 8, frozen: false), 3)
        KernelConfiguration.withCurrent(changing: { $0.convolutionColumns = 256 }) {
            XCTAssertEqual(ConvKernels.groupSize(layer3, imagesPerWorker: 8, frozen: false), 2, "the smaller of the two")
        }
    }
}

/// Wider convolutions (ResNet-like channel counts, where OpenBLAS switches to its large-matrix
/// kernels and TensorKit groups images per GEMM) against a direct float64 convolution written
/// out in the test from the definition.
final class WideConvolutionTests: XCTestCase {
    private func direct(
        _ x: [Float], _ xs: [Int], _ w: [Float], _ ws: [Int], stride s: Int, pad p: Int,
        gy: [Float]
    ) -> (y: [Double], dx: [Double], dw: [Double]) {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]), (o, k) = (ws[0], ws[2])
        let ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1
        var y = [Double](repeating: 0, count: n * o * ho * wo)
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for b in 0..<n {
            for oc in 0..<o {
                for i in 0..<ho {
                    for j in 0..<wo {
                        let yi = ((b * o + oc) * ho + i) * wo + j
                        var acc = 0.0
                        let g = Double(gy[yi])
                        for ic in 0..<c {
                            for ki in 0..<k {
                                for kj in 0..<k {
                                    let ih = i * s - p + ki, iw = j * s - p + kj
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    let xi = ((b * c + ic) * h + ih) * wd + iw, wi = ((oc * c + ic) * k + ki) * k + kj
                                    acc += Double(x[xi]) * Double(w[wi])
                                    dx[xi] += g * Double(w[wi])
                                    dw[wi] += g * Double(x[xi])
                                }
                            }
                        }
                        y[yi] = acc
                    }
                }
            }
        }
        return (y, dx, dw)
    }

    func testAgainstDirectConvolution() throws {
        // Winograd with the AVX-512 and the AVX2 transforms (where this CPU has them), with the
        // portable ones, and off.
        let modes: [(winograd: Bool, kernels: KernelConfiguration.KernelSet)] =
            vectorKernelSets.map { (true, $0) } + [(true, .portable), (false, .portable)]
        for (winograd, kernels) in modes {
            // Force the Winograd path on these small maps, or keep it off entirely.
            try KernelConfiguration.withCurrent(changing: {
                $0.winograd = winograd
                $0.kernelSet = kernels
                $0.winogradMinimumTilesPerWorker = 0
            }) {
                // The last three: 34 tiles a row (two full 16-tile vectors and a partial one, odd
                // height), one row, and exactly 16 tiles a row.
                for (xs, o, stride) in [
                    ([3, 96, 6, 7], 80, 1), ([2, 64, 9, 8], 128, 2), ([5, 48, 2, 3], 64, 1), ([1, 40, 11, 10], 72, 1),
                    ([1, 8, 5, 67], 16, 1), ([2, 8, 1, 33], 8, 1), ([1, 4, 3, 32], 8, 1),
                ] {
                    let x = randomTensor(xs, seed: 31).requiringGrad()
                    let w = randomTensor([o, xs[1], 3, 3], seed: 32, scale: 0.1).requiringGrad()
                    let y = conv2d(x, weight: w, stride: stride, padding: 1)
                    let gy = randomTensor(y.shape, seed: 33)
                    y.backward(gradient: gy)
                    let ref = direct(x.scalars, xs, w.scalars, w.shape, stride: stride, pad: 1, gy: gy.scalars)
                    let what = "x \(xs), \(o) filters, stride \(stride), Winograd \(winograd), kernels \(kernels)"
                    assertClose(y, try Tensor(shape: y.shape, scalars: ref.y.map(Float.init)), what + " forward")
                    assertClose(x.grad, try Tensor(shape: xs, scalars: ref.dx.map(Float.init)), what + " dx")
                    assertClose(w.grad, try Tensor(shape: w.shape, scalars: ref.dw.map(Float.init)), what + " dw, winograd \(winograd)")
                }
            }
        }
    }
}

extension WideConvolutionTests {
    /// Float32 training's input gradient on Winograd F(4×4, 3×3) and its weight gradient on
    /// 4×4 output-gradient tiles, forced on small maps, with the forward pass
    /// on F(2×2) and (``KernelConfiguration/winogradLargeTilesForward``) on F(4×4): against
    /// PyTorch's float64 fixtures and a float64 direct convolution, at the default tolerance
    /// (1e-4 relative), on odd shapes (batch 1-5, 1-67 columns and 1-11 rows: partial tiles,
    /// partial 8- and 16-tile vectors); with each vector kernel set the CPU has.
    func testLargeTilesForTheGradientsAgreeWithPyTorch() throws {
        guard !vectorKernelSets.isEmpty else { throw XCTSkip("F(4x4, 3x3) needs the AVX-512 or AVX2 kernels") }
        for kernels in vectorKernelSets {
            var outputs: [[[UInt32]]] = []
            for forward in [false, true] { outputs.append(try checkLargeTilesForTheGradients(kernels, forward: forward)) }
            // The setting changes the forward pass's arithmetic (it is not ignored).
            XCTAssertNotEqual(outputs[0], outputs[1], "forward outputs with and without F(4x4), \(kernels)")
        }
    }

    /// Runs the checks; returns the forward outputs of the random cases, bit for bit.
    private func checkLargeTilesForTheGradients(_ kernels: KernelConfiguration.KernelSet, forward: Bool) throws -> [[UInt32]] {
        try KernelConfiguration.withCurrent(changing: {
            $0.kernelSet = kernels; $0.gemm = .tensorKit; $0.precision = .float32
            $0.winogradMinimumTilesPerWorker = 0; $0.winogradLargeTileTrainingMinimum = 0
            $0.winogradLargeTilesForward = forward
        }) {
            var outputs: [[UInt32]] = []
            for c in ["conv_3x3_pad1", "conv_small_planes", "conv_3x3_large_b2"] {
                let meta = try fixture(c, "meta").scalars.map(Int.init)
                let xs = try fixture(c, "x").shape, ws = try fixture(c, "w").shape
                let g = ConvGeometry(
                    batch: xs[0], inChannels: xs[1], height: xs[2], width: xs[3], outChannels: ws[0],
                    kernelH: 3, kernelW: 3, strideH: meta[0], strideW: meta[0], padH: meta[1], padW: meta[1])
                XCTAssertTrue(Winograd.applies(g) && Winograd.usesLargeTilesForInputGradient(g), "\(c) takes F(4x4), \(kernels)")
                XCTAssertTrue(Winograd.usesLargeTilesForWeightGradient(g), "\(c): 4x4 weight-gradient tiles, \(kernels)")
                XCTAssertEqual(Winograd.usesLargeTilesForward(g), forward, "\(c): forward pass on F(4x4), \(kernels)")
                try assertConvolutionMatchesFixture(c, "\(c), F(4x4) gradients, forward on F(4x4) \(forward), \(kernels)")
            }
            for xs in [[3, 96, 6, 7], [5, 48, 2, 3], [1, 40, 11, 10], [1, 8, 5, 67], [2, 8, 1, 33]] {
                let o = 24
                let x = randomTensor(xs, seed: 41).requiringGrad()
                let w = randomTensor([o, xs[1], 3, 3], seed: 42, scale: 0.1).requiringGrad()
                let y = conv2d(x, weight: w, stride: 1, padding: 1)
                let gy = randomTensor(y.shape, seed: 43)
                y.backward(gradient: gy)
                let ref = direct(x.scalars, xs, w.scalars, w.shape, stride: 1, pad: 1, gy: gy.scalars)
                let what = "x \(xs), \(o) filters, F(4x4), forward on F(4x4) \(forward), \(kernels)"
                assertClose(y, try Tensor(shape: y.shape, scalars: ref.y.map(Float.init)), what + " forward")
                assertClose(x.grad, try Tensor(shape: xs, scalars: ref.dx.map(Float.init)), what + " dx")
                assertClose(w.grad, try Tensor(shape: w.shape, scalars: ref.dw.map(Float.init)), what + " dw")
                outputs.append(y.scalars.map(\.bitPattern))
            }
            return outputs
        }
    }
}

extension WideConvolutionTests {
    /// The weight gradient's last step, `dw = Gᵀ dU G` with `dU` summed from the workers' parts,
    /// in C with AVX2 (`tkwino_avx2_filter_gradient`) against the Swift definition bit for bit
    /// (the same operations in the same order): F(2×2) and F(4×4), one to three parts, pair
    /// counts of partial and whole vectors. (The gradient tests above check the result against
    /// PyTorch.)
    func testVectorFilterGradientEqualsTheSwiftDefinition() throws {
        try XCTSkipUnless(KernelConfiguration.isAVX2Available, "tkwino_avx2_filter_gradient needs AVX2 and FMA")
        for large in [false, true] {
            let side = large ? 6 : 4
            for count in 1...3 {
                for plane in [1, 7, 8, 9, 67, 200] {
                    let parts = (0..<count).map { k in
                        let values = randomTensor([side * side * plane], seed: UInt64(100 * plane + 10 * k + side)).scalars
                        let storage = TensorStorage(capacity: values.count)
                        storage.pointer.update(from: values, count: values.count)
                        return storage
                    }
                    var results: [[UInt32]] = []
                    for vector in [false, true] {
                        let dw = Tensor(zeros: [plane, 9])
                        Winograd.filterGradient(parts, planes: plane, largeTiles: large, vector: vector, into: dw.pointer)
                        results.append(dw.scalars.map(\.bitPattern))
                    }
                    XCTAssertEqual(results[1], results[0], "F(\(side - 2)x\(side - 2)), \(count) parts, \(plane) pairs")
                }
            }
        }
    }
}

final class WinogradSelectionTests: XCTestCase {
    func testWinogradOnlyForLarge3x3Stride1Padding1() {
        func geometry(_ n: Int, _ h: Int, _ w: Int, k: Int = 3, s: Int = 1, p: Int = 1) -> ConvGeometry {
            ConvGeometry(
                batch: n, inChannels: 8, height: h, width: w, outChannels: 8, kernelH: k, kernelW: k,
                strideH: s, strideW: s, padH: p, padW: p)
        }
        guard KernelConfiguration.current.winograd else { return }
        XCTAssertTrue(Winograd.applies(geometry(16, 32, 108)))
        XCTAssertTrue(Winograd.applies(geometry(8 * Parallel.workers, 4, 14)), "8 images of 14 tiles per worker")
        XCTAssertFalse(Winograd.applies(geometry(1, 4, 14)), "14 tiles: im2col is faster")
        XCTAssertFalse(Winograd.applies(geometry(1, 8, 27)), "56 tiles, filters transformed on every call: im2col")
        // The thresholds for prepared filters are the defaults unless the environment sets one.
        if ProcessInfo.processInfo.environment["TENSORKIT_WINOGRAD_MIN_TILES"] == nil {
            XCTAssertTrue(Winograd.applies(geometry(1, 8, 27), weightsPrepared: true), "56 tiles, filters transformed once")
            XCTAssertTrue(Winograd.applies(geometry(1, 4, 14), weightsPrepared: true), "14 tiles, filters transformed once")
            XCTAssertFalse(Winograd.applies(geometry(1, 2, 7), weightsPrepared: true), "4 tiles: im2col")
        }
        XCTAssertFalse(Winograd.applies(geometry(16, 32, 108, s: 2)))
        XCTAssertFalse(Winograd.applies(geometry(16, 32, 108, k: 1, p: 0)))
    }

    /// Group sizes of the F(2×2) forward pass of the ResNet's layers at batch 16 on two workers
    /// (V and M: 16 matrices of C + O float32 rows a tile; filters 16 · O · C floats).
    func testImagesPerGroupKeepsSmallFiltersGroupsInCache() {
        func group(images: Int, tiles: Int, channels: Int, _ configuration: KernelConfiguration = KernelConfiguration()) -> Int {
            Winograd.imagesPerGroup(
                images, tilesPerImage: tiles, target: 512, tileBytes: 16 * 4 * 2 * channels,
                filterBytes: 16 * 4 * channels * channels, configuration)
        }
        XCTAssertEqual(group(images: 8, tiles: 864, channels: 64), 1, "layer1: one image is the smallest group")
        XCTAssertEqual(group(images: 8, tiles: 216, channels: 128), 1, "layer2: 3.5 MB an image")
        XCTAssertEqual(group(images: 8, tiles: 56, channels: 256), 2, "layer3: two images, 3.7 MB")
        XCTAssertEqual(group(images: 16, tiles: 14, channels: 512), 16, "layer4: 16 MB of filters, streamed once")
        var unbounded = KernelConfiguration()
        unbounded.winogradGroupBytes = .max
        XCTAssertEqual(group(images: 8, tiles: 56, channels: 256, unbounded), 8, "512 tiles' worth, up to the worker's images")
        XCTAssertEqual(group(images: 3, tiles: 14, channels: 512, unbounded), 3)
    }

    /// The pieces the workers claim in turn inside a Winograd convolution: never more than about
    /// four per worker's share, and shared out as evenly as single items would be (the busiest
    /// worker, claiming every `workers`-th piece, gets no more than its fair share rounded up).
    func testEvenPiecesShareOutAsEvenlyAsSingleItems() {
        for workers in 1...4 {
            for count in 1...600 {
                let piece = Winograd.evenPiece(count, workers: workers)
                let pieces = (count + piece - 1) / piece
                let busiest = (pieces + workers - 1) / workers * piece
                XCTAssertLessThanOrEqual(busiest, (count + workers - 1) / workers, "\(count) items, \(workers) workers: \(piece)")
                XCTAssertTrue((1...max(1, count / (4 * workers))).contains(piece), "\(count) items, \(workers) workers: \(piece)")
            }
        }
        XCTAssertEqual(Winograd.evenPiece(36, workers: 2), 3, "F(4x4)'s 36 products: 12 pieces, not 9 of 4")
        XCTAssertEqual(Winograd.evenPiece(256, workers: 2), 32, "channels: 8 pieces of 32")
    }
}

extension WideConvolutionTests {
    /// Float32 training's forward pass on Winograd F(4×4, 3×3), its default, rounds at most 4.5
    /// times as much as on F(2×2): relative L2 error against a float64 direct convolution, on
    /// layer3's 256 channels and 8×27 map (2 images, 32 filters), with each vector kernel set
    /// the CPU has. Measured 2026-12-05 (AVX2 set): 3.2x on the points 0, ±3/4, ±3/2; 6.5x on
    /// Lavin & Gray's 0, ±1, ±2, which fail here (`Benchmarks/winograd_points.py` simulates both).
    func testLargeTileForwardRoundsLittleMoreThanSmallTiles() throws {
        guard !vectorKernelSets.isEmpty else { throw XCTSkip("F(4x4, 3x3) needs the AVX-512 or AVX2 kernels") }
        let xs = [2, 256, 8, 27], ws = [32, 256, 3, 3]
        let x = randomTensor(xs, seed: 51), w = randomTensor(ws, seed: 52, scale: 0.03)
        let gy = [Float](repeating: 0, count: xs[0] * ws[0] * xs[2] * xs[3])
        let reference = direct(x.scalars, xs, w.scalars, ws, stride: 1, pad: 1, gy: gy).y
        let g = ConvGeometry(
            batch: xs[0], inChannels: xs[1], height: xs[2], width: xs[3], outChannels: ws[0],
            kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
        for kernels in vectorKernelSets {
            var errors: [Double] = []
            for large in [false, true] {
                let y = KernelConfiguration.withCurrent(changing: {
                    $0.kernelSet = kernels; $0.gemm = .tensorKit; $0.precision = .float32
                    $0.winogradMinimumTilesPerWorker = 0; $0.winogradLargeTileTrainingMinimum = 0
                    $0.winogradLargeTilesForward = large
                }) {
                    XCTAssertTrue(Winograd.applies(g), "\(kernels): Winograd")
                    XCTAssertEqual(Winograd.usesLargeTilesForward(g), large, "\(kernels): forward on F(4x4) \(large)")
                    return conv2d(x, weight: w.requiringGrad(), stride: 1, padding: 1).scalars
                }
                var diff = 0.0, size = 0.0
                for (a, b) in zip(y, reference) {
                    diff += (Double(a) - b) * (Double(a) - b)
                    size += b * b
                }
                errors.append((diff / size).squareRoot())
            }
            let ratio = errors[1] / errors[0]
            print("\(kernels): forward error F(2x2) \(errors[0]), F(4x4) \(errors[1]) (\(ratio)x)")
            XCTAssertGreaterThan(ratio, 1, "\(kernels): F(4x4) rounds like F(2x2): was it used?")
            XCTAssertLessThanOrEqual(ratio, 4.5, "\(kernels): F(4x4)'s forward rounding against F(2x2)'s")
        }
    }
}
