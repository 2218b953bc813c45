import XCTest
@testable import TensorKit

/// `FoldedConv2d` (BN folded into the filters, residual and ReLU in the output pass) against the
/// same computation as separate operations (`conv2d`, `batchNorm2d` in evaluation mode, `+`,
/// `relu`), each of which is checked against PyTorch in `ConvolutionTests` / `BatchNormTests`.
final class FoldedConv2dTests: XCTestCase {
    /// A conv and a BN with random filters and non-trivial running statistics and affine terms.
    func layers(
        _ cin: Int, _ cout: Int, kernel: Int, stride: Int, padding: Int, bias: Bool,
        seed: UInt64
    ) -> (Conv2d, BatchNorm2d) {
        var g = RandomGenerator(seed: seed)
        let conv = Conv2d(cin, cout, kernelSize: kernel, stride: stride, padding: padding, bias: bias, generator: &g)
        let bn = BatchNorm2d(cout)
        bn.weight.value = randomTensor([cout], seed: seed + 1, scale: 0.5, shift: 1)
        bn.bias.value = randomTensor([cout], seed: seed + 2, scale: 0.2)
        bn.runningMean.value = randomTensor([cout], seed: seed + 3, scale: 0.3)
        var v = randomTensor([cout], seed: seed + 4, scale: 0.4, shift: 1)
        v.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = abs(p[i]) + 0.1 } }
        bn.runningVar.value = v
        bn.eval()
        return (conv, bn)
    }

    func reference(_ conv: Conv2d, _ bn: BatchNorm2d, _ x: Tensor, residual: Tensor?, relu: Bool) -> (sum: Tensor, out: Tensor) {
        withNoGrad {
            var rm = bn.runningMean.value, rv = bn.runningVar.value
            var y = batchNorm2d(
                conv(x), weight: bn.weight.value, bias: bn.bias.value, runningMean: &rm, runningVar: &rv,
                training: false, eps: bn.eps)
            if let residual { y = y + residual }
            return (y, relu ? y.relu() : y)
        }
    }

    /// Every kernel path: Winograd (3×3/1/1, many and few tiles), im2col one image per GEMM,
    /// im2col several images per GEMM (small maps), pointwise 1×1, strided, the 7×7 stem,
    /// batch 1 (work split inside one image) and batch 3; the Winograd cases with the AVX-512
    /// tile transforms, the AVX2 ones (both finish the layer in their output pass) and the
    /// portable ones.
    func testMatchesSeparateOperationsOnEveryKernelPath() {
        for kernels in vectorKernelSets + [.portable] {
            KernelConfiguration.withCurrent(changing: { $0.kernelSet = kernels }) {
                checkEveryKernelPath(kernels)
            }
        }
    }

    private func checkEveryKernelPath(_ kernels: KernelConfiguration.KernelSet) {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, n: Int, h: Int, w: Int, bias: Bool)] = [
            (16, 24, 3, 1, 1, 1, 32, 54, false),  // Winograd, batch 1
            (16, 24, 3, 1, 1, 3, 9, 13, true),  // Winograd or grouped im2col, odd sizes
            (32, 32, 3, 1, 1, 1, 4, 14, false),  // layer4-like map at batch 1
            (8, 16, 3, 2, 1, 3, 17, 30, false),  // strided 3×3
            (8, 16, 1, 2, 0, 2, 16, 27, false),  // projection shortcut
            (8, 16, 1, 1, 0, 2, 5, 7, true),  // pointwise, grouped
            (1, 8, 7, 2, 3, 1, 40, 61, false),  // the stem
            (8, 16, 3, 1, 1, 2, 7, 67, true),  // Winograd, 34 tiles a row, odd height
        ]
        for (i, c) in cases.enumerated() {
            let (conv, bn) = layers(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.p, bias: c.bias, seed: UInt64(10 * i))
            let folded = FoldedConv2d(conv, batchNorm: bn)
            let x = randomTensor([c.n, c.cin, c.h, c.w], seed: UInt64(100 + i))
            let oh = (c.h + 2 * c.p - c.k) / c.s + 1, ow = (c.w + 2 * c.p - c.k) / c.s + 1
            let r = randomTensor([c.n, c.cout, oh, ow], seed: UInt64(200 + i))
            let what = "case \(i) \(c), kernels \(kernels)"
            // The im2col path's filter matrix: packed once for the AVX-512 kernel; none for the
            // AVX2 and portable sets, whose im2col products run on OpenBLAS (which packs B too:
            // the AVX2 kernel reads B in place and was 0.8-0.95x OpenBLAS on these products,
            // `audiocnn bench gemm`, Docs/Benchmarks.md).
            let expectedFormat: BLAS.PackedMatrix.Format? = kernels == .avx512 ? .float32 : nil
            XCTAssertEqual(
                PreparedConvWeights(conv.weight.value, outputScale: nil).packedFilters()?.format, expectedFormat, what)
            withNoGrad {
                let plain = reference(conv, bn, x, residual: nil, relu: false)
                assertClose(folded(x), plain.out, "\(what): conv+bn")
                let relu = reference(conv, bn, x, residual: nil, relu: true)
                assertClose(folded(x, relu: true), relu.out, "\(what): conv+bn+relu")
                let block = reference(conv, bn, x, residual: r, relu: true)
                assertClose(folded(x, adding: r, relu: true), block.out, "\(what): conv+bn+add+relu")
                let (sum, out) = folded.sumAndReLU(x, adding: r)
                assertClose(sum, block.sum, "\(what): sum before ReLU")
                assertClose(out, block.out, "\(what): ReLU of the sum")
                // Twice: the second call uses the cached Winograd filters.
                assertClose(folded(x, adding: r, relu: true), block.out, "\(what): second call")
            }
        }
    }

    /// Winograd F(4×4, 3×3) (float32 frozen filters; AVX-512 transforms with TensorKit's GEMM,
    /// AVX2 ones with OpenBLAS) on maps that are not multiples of 4, batch 1, 3 and 5, with
    /// every epilogue, against the separate operations (PyTorch-checked `conv2d`) at the float32
    /// tolerance; and the path really taken.
    func testLargeWinogradTilesMatchSeparateOperations() throws {
        guard !vectorKernelSets.isEmpty else { throw XCTSkip("F(4x4, 3x3) needs the AVX-512 or AVX2 transforms") }
        for kernels in vectorKernelSets {
            checkLargeWinogradTiles(kernels, gemm: .tensorKit)
            // The AVX2 set also runs F(4×4) on OpenBLAS, with plain filters.
            if kernels == .avx2 { checkLargeWinogradTiles(kernels, gemm: .openBLAS) }
        }
        checkWhereLargeTilesApply()
    }

    private func checkLargeWinogradTiles(_ kernels: KernelConfiguration.KernelSet, gemm: KernelConfiguration.GEMMKernel) {
        let cases: [(cin: Int, cout: Int, n: Int, h: Int, w: Int)] = [
            (8, 16, 1, 5, 9), (16, 24, 3, 7, 67), (24, 16, 5, 13, 130), (16, 16, 1, 32, 108), (32, 40, 3, 4, 14),
        ]
        KernelConfiguration.withCurrent(changing: {
            $0.kernelSet = kernels; $0.gemm = gemm; $0.winogradLargeTileMinimum = 0
        }) {
            for (i, c) in cases.enumerated() {
                let g = ConvGeometry(
                    batch: c.n, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.cout, kernelH: 3, kernelW: 3,
                    strideH: 1, strideW: 1, padH: 1, padW: 1)
                XCTAssertTrue(Winograd.applies(g, weightsPrepared: true), "case \(i)")
                XCTAssertTrue(Winograd.usesLargeTiles(g), "case \(i): F(4x4, 3x3) expected")
                let (conv, bn) = layers(c.cin, c.cout, kernel: 3, stride: 1, padding: 1, bias: i % 2 == 0, seed: UInt64(300 + i))
                // The form of the filters: packed for TensorKit's kernel of the set, or plain for OpenBLAS.
                switch PreparedConvWeights(conv.weight.value, outputScale: nil).winogradFilters4x4() {
                case .packed(let packs)?:
                    XCTAssertEqual(gemm, .tensorKit, "case \(i)")
                    XCTAssertEqual(packs.count, 36)
                    XCTAssertEqual(packs.first?.format, kernels == .avx2 ? .float32AVX2 : .float32, "case \(i)")
                case .plain(_, let tile)?:
                    XCTAssertEqual(tile, 4)
                    XCTAssertEqual(gemm, .openBLAS, "case \(i): plain F(4x4) filters only for OpenBLAS")
                case nil: XCTFail("case \(i): no F(4x4) filters with \(kernels), \(gemm)")
                }
                let folded = FoldedConv2d(conv, batchNorm: bn)
                let x = randomTensor([c.n, c.cin, c.h, c.w], seed: UInt64(400 + i))
                let r = randomTensor([c.n, c.cout, c.h, c.w], seed: UInt64(500 + i))
                let what = "F(4x4) case \(i) \(c), kernels \(kernels), GEMM \(gemm)"
                withNoGrad {
                    assertClose(folded(x), reference(conv, bn, x, residual: nil, relu: false).out, "\(what): conv+bn")
                    let block = reference(conv, bn, x, residual: r, relu: true)
                    let (sum, out) = folded.sumAndReLU(x, adding: r)
                    assertClose(sum, block.sum, "\(what): sum before ReLU")
                    assertClose(out, block.out, "\(what): ReLU of the sum")
                    let small = KernelConfiguration.withCurrent(changing: { $0.winogradLargeTiles = false }) {
                        FoldedConv2d(conv, batchNorm: bn)(x, adding: r, relu: true)
                    }
                    XCTAssertNotEqual(small.scalars, out.scalars, "\(what): F(2x2) gave the same bits; was F(4x4) used?")
                }
            }
        }
    }

    /// Where F(4×4) applies: AVX-512 at both precisions (layer3's 2×7 tiles at batch 1 too,
    /// layer4's 1×4 not), AVX2 at float32 only, never on the portable kernels.
    private func checkWhereLargeTilesApply() {
        let g = ConvGeometry(
            batch: 4, inChannels: 8, height: 32, width: 108, outChannels: 8, kernelH: 3, kernelW: 3,
            strideH: 1, strideW: 1, padH: 1, padW: 1)
        let layer3 = ConvGeometry(
            batch: 1, inChannels: 256, height: 8, width: 27, outChannels: 256, kernelH: 3, kernelW: 3,
            strideH: 1, strideW: 1, padH: 1, padW: 1)
        let layer4 = ConvGeometry(
            batch: 1, inChannels: 512, height: 4, width: 14, outChannels: 512, kernelH: 3, kernelW: 3,
            strideH: 1, strideW: 1, padH: 1, padW: 1)
        for kernels in vectorKernelSets {
            for precision in [KernelConfiguration.Precision.float32, .bfloat16] {
                let uses = { (g: ConvGeometry) in
                    KernelConfiguration.withCurrent(changing: {
                        $0.kernelSet = kernels; $0.precision = precision; $0.threads = 2
                    }) { Winograd.usesLargeTiles(g) }
                }
                let expected = kernels == .avx512 || precision == .float32
                XCTAssertEqual(uses(g), expected, "\(kernels), \(precision)")
                XCTAssertEqual(uses(layer3), expected, "layer3 at batch 1, \(kernels), \(precision)")
                XCTAssertFalse(uses(layer4), "layer4 at batch 1, \(kernels), \(precision)")
            }
            XCTAssertFalse(
                KernelConfiguration.withCurrent(changing: {
                    $0.kernelSet = kernels; $0.winogradLargeTiles = false
                }) { Winograd.usesLargeTiles(g) })
        }
        XCTAssertFalse(KernelConfiguration.withCurrent(changing: { $0.kernelSet = .portable }) { Winograd.usesLargeTiles(g) })
    }

    /// NaN in the input stays NaN through the fused ReLU, as PyTorch's ReLU keeps it: on the
    /// AVX-512 and AVX2 Winograd output passes (F(2×2) and F(4×4)), the portable one and the
    /// im2col path.
    func testNaNPropagatesThroughTheFusedReLU() {
        let (conv, bn) = layers(16, 24, kernel: 3, stride: 1, padding: 1, bias: false, seed: 41)
        var x = randomTensor([1, 16, 32, 54], seed: 42)
        x[0, 3, 5, 7] = .nan
        let portable = KernelConfiguration.KernelSet.portable
        let modes =
            vectorKernelSets.flatMap { [($0, true, true), ($0, true, false)] } + [(portable, true, false), (portable, false, false)]
        for (kernels, winograd, large) in modes {
            let what = "\(kernels), Winograd \(winograd), F(4x4) \(large)"
            KernelConfiguration.withCurrent(changing: {
                $0.kernelSet = kernels; $0.winograd = winograd; $0.winogradLargeTiles = large
            }) {
                let folded = FoldedConv2d(conv, batchNorm: bn)
                let y = withNoGrad { folded(x, relu: true) }
                let r = withNoGrad { folded(x, adding: Tensor(zeros: y.shape), relu: true) }
                for oc in 0..<24 {
                    XCTAssertTrue(y[0, oc, 5, 7].isNaN, "channel \(oc), \(what): \(y[0, oc, 5, 7])")
                    XCTAssertTrue(r[0, oc, 5, 7].isNaN, "with a residual, channel \(oc), \(what)")
                }
            }
        }
    }

    /// The pooled stem (`folded(x, reluThen: pool)`, one direct kernel) against the separate
    /// operations (conv, batch norm, ReLU, then `maxPool2d`, each checked against PyTorch) on
    /// batch 1, 3 and 5, maps of 9 to 1000 frames and odd heights, 7×7, 5×5 and 3×3 filters (widths
    /// ending in whole and partial vectors of 8 and 16 columns);
    /// each vector kernel this CPU runs (AVX-512, AVX2) equal to the portable C definition bit
    /// for bit, and the same at bfloat16 (the stem stays float32).
    func testPooledStemMatchesSeparateOperations() throws {
        let sets = vectorSets
        try XCTSkipIf(sets.isEmpty, "the pooled stem kernels need AVX-512 or AVX2 with FMA")
        // Each set whatever TENSORKIT_KERNELS says (CI also runs the suite with `portable`,
        // where the layer takes the separate operations).
        for set in sets {
            KernelConfiguration.withCurrent(changing: { $0.kernelSet = set }) { checkPooledStem(set) }
        }
    }

    /// The kernel sets with a pooled stem kernel that this CPU runs.
    private var vectorSets: [KernelConfiguration.KernelSet] {
        (KernelConfiguration.isAVX512Available ? [.avx512] : []) + (KernelConfiguration.isAVX2Available ? [.avx2] : [])
    }

    private func checkPooledStem(_ set: KernelConfiguration.KernelSet) {
        let pool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        let cases: [(n: Int, cout: Int, k: Int, p: Int, h: Int, w: Int)] = [
            (1, 64, 7, 3, 128, 431), (3, 24, 7, 3, 128, 9), (5, 20, 7, 3, 13, 1000), (1, 7, 7, 3, 1, 1),
            (3, 5, 7, 3, 7, 7), (1, 16, 5, 2, 31, 45), (1, 3, 3, 1, 10, 33), (1, 6, 7, 3, 21, 29),
        ]
        for (i, c) in cases.enumerated() {
            let (conv, bn) = layers(1, c.cout, kernel: c.k, stride: 2, padding: c.p, bias: i % 2 == 0, seed: UInt64(300 + i))
            let folded = FoldedConv2d(conv, batchNorm: bn)
            let x = randomTensor([c.n, 1, c.h, c.w], seed: UInt64(400 + i))
            let what = "\(set) case \(i) \(c)"
            XCTAssertTrue(
                PooledStem.applies(inputShape: x.shape, filterShape: folded.weight.shape, stride: 2, padding: c.p, pool: pool),
                "\(what): the pooled kernel runs")
            withNoGrad {
                let expected = maxPool2d(reference(conv, bn, x, residual: nil, relu: true).out, kernelSize: 3, stride: 2, padding: 1)
                let y = folded(x, reluThen: pool)
                XCTAssertEqual(y.shape, expected.shape, what)
                assertClose(y, expected, "\(what): pooled stem")
                let portable = PooledStem.pooled(x, filters: folded.weight, bias: folded.bias, padding: c.p, portable: true)
                XCTAssertEqual(y.scalars, portable.scalars, "\(what): vector kernel against portable C")
                let bf16 = KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) { folded(x, reluThen: pool) }
                XCTAssertEqual(bf16.scalars, y.scalars, "\(what): float32 at bfloat16 too")
            }
        }
    }

    /// NaN in the stem's input reaches the pooled outputs whose windows it feeds, as through
    /// PyTorch's ReLU and max pooling, and the rest stay the separate operations' values.
    func testPooledStemPropagatesNaN() throws {
        let sets = vectorSets
        try XCTSkipIf(sets.isEmpty, "the pooled stem kernels need AVX-512 or AVX2 with FMA")
        for set in sets { checkPooledStemNaN(set) }
    }

    private func checkPooledStemNaN(_ set: KernelConfiguration.KernelSet) {
        let (conv, bn) = layers(1, 8, kernel: 7, stride: 2, padding: 3, bias: false, seed: 51)
        let folded = FoldedConv2d(conv, batchNorm: bn)
        var x = randomTensor([1, 1, 40, 61], seed: 52)
        x[0, 0, 17, 30] = .nan
        let pool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        let (y, expected) = withNoGrad {
            (
                KernelConfiguration.withCurrent(changing: { $0.kernelSet = set }) { folded(x, reluThen: pool) },
                pool(reference(conv, bn, x, residual: nil, relu: true).out)
            )
        }
        let a = y.scalars, b = expected.scalars
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(b.contains { $0.isNaN }, "the reference has NaN outputs")
        for j in b.indices {
            XCTAssertEqual(a[j].isNaN, b[j].isNaN, "\(set) output \(j): \(a[j]) against \(b[j])")
            if !b[j].isNaN {
                XCTAssertEqual(Double(a[j]), Double(b[j]), accuracy: 1e-4 * max(1, abs(Double(b[j]))), "\(set) output \(j)")
            }
        }
    }

    func testIsASnapshotOfTheLayers() {
        let (conv, bn) = layers(4, 6, kernel: 3, stride: 1, padding: 1, bias: false, seed: 7)
        let x = randomTensor([1, 4, 8, 8], seed: 8)
        let folded = FoldedConv2d(conv, batchNorm: bn)
        let before = reference(conv, bn, x, residual: nil, relu: false).out
        bn.runningMean.value = Tensor(zeros: [6])
        assertClose(withNoGrad { folded(x) }, before, "unchanged by later edits of the batch norm")
        // The snapshot shares the filters' buffer: an in-place write (as an optimiser step
        // makes) must copy it first, on every path that later reads the filters.
        let unfolded = FoldedConv2d(conv, batchNorm: nil)
        let convBefore = withNoGrad { conv(x) }
        conv.weight.value.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= -2 } }
        assertClose(withNoGrad { folded(x) }, before, "unchanged by in-place writes to the filters")
        assertClose(withNoGrad { unfolded(x) }, convBefore, "unchanged by in-place writes to the filters, no batch norm")
        assertClose(
            folded.weight.detached, conv.foldingBatchNorm(bn).weight.value * -0.5,
            "the folded filters are those of the snapshot")
    }

    func testWithoutBatchNormIsTheConvolution() {
        var g = RandomGenerator(seed: 5)
        let conv = Conv2d(3, 5, kernelSize: 3, stride: 1, padding: 1, bias: true, generator: &g)
        let x = randomTensor([2, 3, 6, 9], seed: 6)
        assertClose(withNoGrad { FoldedConv2d(conv, batchNorm: nil)(x) }, withNoGrad { conv(x) }, "frozen conv")
    }

    /// With gradient recording on and an input that wants a gradient it runs differentiable
    /// operations: input and residual gradients as those of the separate operations.
    func testGradientsFlowToInputAndResidualWhenRecording() {
        let (conv, bn) = layers(3, 4, kernel: 3, stride: 1, padding: 1, bias: false, seed: 3)
        conv.weight.requiresGrad = false
        bn.weight.requiresGrad = false
        bn.bias.requiresGrad = false
        let folded = FoldedConv2d(conv, batchNorm: bn)
        let x = randomTensor([2, 3, 5, 6], seed: 1).requiringGrad()
        let r = randomTensor([2, 4, 5, 6], seed: 2).requiringGrad()
        let gOut = randomTensor([2, 4, 5, 6], seed: 4)
        (folded(x, adding: r, relu: true) * gOut).sum().backward()
        let x2 = x.detached.requiringGrad(), r2 = r.detached.requiringGrad()
        var rm = bn.runningMean.value, rv = bn.runningVar.value
        let y = batchNorm2d(
            conv(x2), weight: bn.weight.value, bias: bn.bias.value, runningMean: &rm, runningVar: &rv,
            training: false, eps: bn.eps)
        ((y + r2).relu() * gOut).sum().backward()
        assertClose(x.grad, x2.grad!, "input gradient")
        assertClose(r.grad, r2.grad!, "residual gradient")
    }
}
