import XCTest
@testable import TensorKit

/// `KernelConfiguration.Precision.bfloat16`: the GEMM against float64 of operands rounded to
/// bfloat16 here (independently of the C rounding), on TensorKit's AVX512_BF16 kernel and on both
/// emulated routes (OpenBLAS, portable kernels); the PyTorch convolution fixtures at bfloat16;
/// and the frozen-filter convolution path on odd shapes, hardware against emulation.
final class BFloat16Tests: XCTestCase {
    /// The routes a bfloat16 product can take.
    enum Route: String, CaseIterable {
        /// TensorKit's `vdpbf16ps` kernel.
        case hardware
        /// Rounded copies of the operands, OpenBLAS float32 product (vector Winograd transforms).
        case emulatedOpenBLAS
        /// Rounded copies, portable kernels everywhere.
        case emulatedPortable
    }

    /// Runs `body` at bfloat16 on `route`, every product size on the chosen GEMM; `nil` when this
    /// CPU cannot take the route.
    private func at<R>(_ route: Route, _ body: () throws -> R) rethrows -> R? {
        switch route {
        case .hardware where !KernelConfiguration.isBFloat16Available: return nil
        case .emulatedOpenBLAS where !KernelConfiguration.isAVX512Available: return nil
        default: break
        }
        return try KernelConfiguration.withCurrent(
            changing: {
                $0.precision = .bfloat16
                $0.minimumTensorKitGEMMWork = 0
                // F(4×4, 3×3) needs TensorKit's packed GEMM, which the emulated routes lack:
                // testLargeWinogradTilesAtBFloat16 checks it on its own.
                $0.winogradLargeTiles = false
                switch route {
                case .hardware: $0.kernelSet = .avx512; $0.gemm = .tensorKit
                case .emulatedOpenBLAS: $0.kernelSet = .avx512; $0.gemm = .openBLAS
                case .emulatedPortable: $0.kernelSet = .portable
                }
            }, body)
    }

    /// Round to the nearest bfloat16, ties to even, subnormals to zero (the rounding of
    /// `vcvtne2ps2bf16`), written here from the format's definition.
    static func bfloat16(_ x: Float) -> Float {
        if x.isNaN { return x }
        if x.isSubnormal { return x.sign == .minus ? -0.0 : 0.0 }
        let bits = x.bitPattern
        let keep = bits >> 16, rest = bits & 0xFFFF
        let up = rest > 0x8000 || (rest == 0x8000 && keep & 1 == 1)
        return Float(bitPattern: (keep + (up ? 1 : 0)) << 16)
    }

    func testRoundingDefinition() {
        XCTAssertEqual(Self.bfloat16(1 + 1 / 256), 1, "a tie rounds to the even neighbour")
        XCTAssertEqual(Self.bfloat16(1 + 3 / 256), 1 + 4 / 256, "a tie rounds to the even neighbour")
        XCTAssertEqual(Self.bfloat16(1 + 1 / 256 + 1 / 65536), 1 + 2 / 256)
        XCTAssertEqual(Self.bfloat16(3.4e38), .infinity, "past the largest bfloat16")
        XCTAssertEqual(Self.bfloat16(Float(bitPattern: 0x000A_0000)), 0, "a subnormal becomes zero")
    }

    /// One product at bfloat16 against float64 sums of the operands rounded by ``bfloat16(_:)``
    /// (within float32 summation error), and far enough from the unrounded product to show the
    /// operands were rounded.
    private func check(
        _ ta: BLAS.Transpose, _ tb: BLAS.Transpose, m: Int, n: Int, k: Int, beta: Float, packed: Bool,
        parallel: Bool, seed: UInt64, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        var g = RandomGenerator(seed: seed)
        let lda = (ta == .none ? k : m) + 3, ldb = (tb == .none ? n : k) + 5, ldc = n + 2
        let a = (0..<((ta == .none ? m : k) * lda)).map { _ in g.nextUnitFloat() - 0.5 }
        let b = (0..<((tb == .none ? k : n) * ldb)).map { _ in g.nextUnitFloat() - 0.5 }
        let c0 = (0..<(m * ldc)).map { _ in g.nextUnitFloat() - 0.5 }
        var c = c0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    if packed, let pa = BLAS.pack(ta, m: m, k: k, a: ap.baseAddress!, lda: lda) {
                        XCTAssertEqual(pa.precision, .bfloat16, file: file, line: line)
                        BLAS.gemm(pa, tb, n: n, b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, parallel: parallel)
                    } else {
                        BLAS.gemm(
                            ta, tb, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                            beta: beta, c: cp.baseAddress!, ldc: ldc, parallel: parallel)
                    }
                }
            }
        }
        let tolerance = 1e-6 * Double(k).squareRoot() + 1e-6
        var worst = 0.0, fromUnrounded = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var rounded = 0.0, exact = 0.0
                for p in 0..<k {
                    let x = ta == .none ? a[i * lda + p] : a[p * lda + i]
                    let y = tb == .none ? b[p * ldb + j] : b[j * ldb + p]
                    rounded += Double(Self.bfloat16(x)) * Double(Self.bfloat16(y))
                    exact += Double(x) * Double(y)
                }
                let base = beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j])
                let got = Double(c[i * ldc + j])
                worst = max(worst, abs(got - (rounded + base)))
                fromUnrounded = max(fromUnrounded, abs(got - (exact + base)))
            }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): \(ta)/\(tb) \(m)x\(n)x\(k) beta \(beta)", file: file, line: line)
        if k >= 32 {
            XCTAssertGreaterThan(fromUnrounded, 1e-4, "\(what): \(m)x\(n)x\(k) looks unrounded", file: file, line: line)
        }
    }

    func testGEMMAgainstFloat64OfRoundedOperands() throws {
        var ran = 0
        for route in Route.allCases {
            let done: Void? = at(route) {
                var seed: UInt64 = 100
                for ta in [BLAS.Transpose.none, .transposed] {
                    for tb in [BLAS.Transpose.none, .transposed] {
                        for (im, m) in [1, 7, 9, 48, 49].enumerated() {
                            for (jn, n) in [1, 15, 47, 48, 97].enumerated() {
                                for k in [1, 2, 33, 97, 1030] {
                                    let beta: Float = [0, 1, 0.5][(im + jn + k) % 3]
                                    for packed in [false, true] {
                                        check(
                                            ta, tb, m: m, n: n, k: k, beta: beta, packed: packed,
                                            parallel: (im + jn) % 2 == 0, seed: seed, route.rawValue)
                                    }
                                    seed += 1
                                }
                            }
                        }
                    }
                }
                // Several column blocks and worker splits by rows and by columns.
                check(.none, .none, m: 300, n: 56, k: 520, beta: 0, packed: true, parallel: true, seed: 1, route.rawValue)
                check(.none, .none, m: 36, n: 1250, k: 300, beta: 1, packed: true, parallel: true, seed: 2, route.rawValue)
                check(.none, .transposed, m: 64, n: 700, k: 600, beta: 0, packed: false, parallel: true, seed: 3, route.rawValue)
            }
            if done != nil { ran += 1 }
        }
        XCTAssertGreaterThanOrEqual(ran, 1)
        if !KernelConfiguration.isBFloat16Available {
            throw XCTSkip("this CPU has no AVX512_BF16: only the emulated routes were checked")
        }
    }

    /// `max |a − e| / max |e|`.
    private func relativeError(_ actual: Tensor?, _ expected: Tensor) -> Double {
        guard let actual, actual.shape == expected.shape else { return .infinity }
        let a = actual.scalars, e = expected.scalars
        var worst = 0.0, scale = 0.0
        for i in e.indices {
            worst = max(worst, abs(Double(a[i]) - Double(e[i])))
            scale = max(scale, abs(Double(e[i])))
        }
        return worst / max(scale, 1e-30)
    }

    /// PyTorch's float32 convolutions (forward, dx, dw; Winograd and im2col) at bfloat16: within
    /// bfloat16 rounding of the float32 results, and visibly not float32.
    func testConvolutionFixturesAtBFloat16() throws {
        var ran = 0
        for route in Route.allCases {
            let done: Void? = try at(route) {
                for winograd in [true, false] {
                    try KernelConfiguration.withCurrent(changing: {
                        $0.winograd = winograd; $0.winogradMinimumTilesPerWorker = 0
                    }) {
                        for c in ConvolutionTests.cases {
                            let meta = try fixture(c, "meta").scalars.map(Int.init)
                            let x = try fixture(c, "x").requiringGrad(), w = try fixture(c, "w").requiringGrad()
                            let b = meta[2] == 1 ? try fixture(c, "b").requiringGrad() : nil
                            let y = conv2d(x, weight: w, bias: b, stride: meta[0], padding: meta[1])
                            y.backward(gradient: try fixture(c, "gy"))
                            let what = "\(c) (\(route), Winograd \(winograd))"
                            let errors = [
                                ("forward", relativeError(y, try fixture(c, "y"))),
                                ("dx", relativeError(x.grad, try fixture(c, "dx"))),
                                ("dw", relativeError(w.grad, try fixture(c, "dw"))),
                            ]
                            for (name, error) in errors {
                                XCTAssertLessThanOrEqual(error, 1.5e-2, "\(what) \(name)")
                            }
                            XCTAssertGreaterThan(errors[0].1, 1e-5, "\(what): the forward pass looks float32")
                        }
                    }
                }
            }
            if done != nil { ran += 1 }
        }
        XCTAssertGreaterThanOrEqual(ran, 1)
    }

    /// Frozen filters (`FoldedConv2d`: packed bfloat16 filters, Winograd-domain filters) on odd
    /// shapes, batch 1, 3 and 5, 9 to 1000 frames: the AVX512_BF16 kernel against the emulation
    /// with the same tile transforms (float32 summation order apart, the same numbers), and every
    /// route against float32 within bfloat16 rounding.
    func testFrozenConvolutionsOnOddShapesMatchTheEmulation() throws {
        typealias Case = (batch: Int, cin: Int, cout: Int, h: Int, w: Int, kernel: Int, stride: Int, padding: Int)
        let cases: [Case] = [
            (1, 8, 16, 16, 9, 3, 1, 1), (3, 16, 32, 8, 37, 3, 1, 1), (5, 24, 16, 4, 1000, 3, 1, 1),
            (3, 1, 16, 32, 431, 7, 2, 3), (5, 16, 32, 8, 101, 3, 2, 1), (1, 32, 64, 4, 14, 1, 2, 0),
            (3, 24, 40, 2, 9, 1, 1, 0), (1, 64, 64, 4, 14, 3, 1, 1),
        ]
        for (n, c) in cases.enumerated() {
            var g = RandomGenerator(seed: UInt64(40 + n))
            let conv = Conv2d(c.cin, c.cout, kernelSize: c.kernel, stride: c.stride, padding: c.padding, bias: true, generator: &g)
            let x = randomTensor([c.batch, c.cin, c.h, c.w], seed: UInt64(90 + n))
            let what = "\(c)"
            let float32 = withNoGrad { conv2d(x, weight: conv.weight.value, bias: conv.bias?.value, stride: c.stride, padding: c.padding) }
            var outputs: [Route: Tensor] = [:]
            for route in Route.allCases {
                // A new frozen layer per route: each packs its filters at its own precision.
                let folded = FoldedConv2d(conv, batchNorm: nil)
                outputs[route] = at(route) { withNoGrad { folded(x, relu: false) } }
            }
            for (route, y) in outputs {
                let error = relativeError(y, float32)
                XCTAssertLessThanOrEqual(error, 1.5e-2, "\(what) \(route) against float32")
                XCTAssertGreaterThan(error, 1e-6, "\(what) \(route) looks float32")
            }
            if let hardware = outputs[.hardware], let emulated = outputs[.emulatedOpenBLAS] {
                XCTAssertLessThanOrEqual(relativeError(hardware, emulated), 2e-5, "\(what): AVX512_BF16 against its emulation")
            }
        }
    }

    /// Frozen filters on Winograd F(4×4, 3×3) at bfloat16 (AVX512_BF16) on odd shapes, batch 1, 3
    /// and 5, 9 to 1000 frames, against float32. F(4×4)'s transforms amplify the operands'
    /// rounding: measured 2026-12-03 on Lavin & Gray's points, 2.0-2.4% relative L2 error per
    /// layer against 0.34-0.38% on F(2×2), so the bound is wider than the 1.5% of the other
    /// bfloat16 paths. The points 0, ±3/4, ±3/2 (2026-12-05) halve that: in a simulation of one
    /// tile over 128 channels with bfloat16 operands, 5.4x F(2×2)'s error becomes 2.7x, so the
    /// check that F(4×4) ran asks for 1.5x (not yet measured on an AVX512_BF16 CPU). The model-level
    /// bounds are in `BFloat16InferenceTests` (global pooling averages these errors out).
    /// The same layer called at float32 afterwards still gives its float32 bits (filters are
    /// transformed and packed per precision).
    func testLargeWinogradTilesAtBFloat16() throws {
        guard KernelConfiguration.isBFloat16Available else { throw XCTSkip("this CPU has no AVX512_BF16") }
        typealias Case = (batch: Int, cin: Int, cout: Int, h: Int, w: Int)
        let cases: [Case] = [(1, 8, 16, 16, 9), (3, 16, 32, 8, 37), (5, 24, 16, 4, 1000), (1, 64, 64, 32, 108), (3, 128, 64, 8, 27)]
        for (n, c) in cases.enumerated() {
            var g = RandomGenerator(seed: UInt64(140 + n))
            let conv = Conv2d(c.cin, c.cout, kernelSize: 3, stride: 1, padding: 1, bias: true, generator: &g)
            // Post-ReLU activations, as the model's 3×3 layers see them.
            let x = randomTensor([c.batch, c.cin, c.h, c.w], seed: UInt64(190 + n)).relu()
            let what = "\(c)"
            let expected = withNoGrad { conv2d(x, weight: conv.weight.value, bias: conv.bias?.value, stride: 1, padding: 1) }
            let geometry = ConvGeometry(
                batch: c.batch, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.cout,
                kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
            let folded = FoldedConv2d(conv, batchNorm: nil)
            func run(_ precision: KernelConfiguration.Precision, largeTiles: Bool) -> Tensor {
                KernelConfiguration.withCurrent(changing: {
                    $0.precision = precision; $0.kernelSet = .avx512; $0.gemm = .tensorKit
                    $0.winogradLargeTiles = largeTiles; $0.winogradMinimumTilesPrepared = 0
                    $0.winogradLargeTileMinimum = 0
                }) {
                    XCTAssertEqual(Winograd.usesLargeTiles(geometry), largeTiles, "\(what): F(4x4) \(largeTiles) expected")
                    return withNoGrad { folded(x, relu: false) }
                }
            }
            let float32 = run(.float32, largeTiles: true)
            let large = l2Error(run(.bfloat16, largeTiles: true), expected)
            let small = l2Error(run(.bfloat16, largeTiles: false), expected)
            XCTAssertLessThanOrEqual(large, 5e-2, "\(what): F(4x4) at bfloat16 against float32")
            XCTAssertGreaterThan(large, 1.5 * small, "\(what): F(4x4) rounds like F(2x2): was it used?")
            XCTAssertLessThanOrEqual(small, 1e-2, "\(what): F(2x2) at bfloat16 against float32")
            XCTAssertEqual(run(.float32, largeTiles: true).scalars, float32.scalars, "\(what): float32 again after bfloat16")
            XCTAssertLessThanOrEqual(l2Error(float32, expected), 1e-5, "\(what): F(4x4) at float32")
        }
    }

    /// Training at bfloat16 with `winogradLargeTilesForward` (forced on small maps): the forward
    /// pass and the input gradient on F(4×4), the weight gradient still on 2×2 tiles. Forward, dx
    /// and dw against PyTorch's fixtures within 5% (L2; F(4×4)'s rounding, as frozen filters
    /// above), the forward pass and dx rounded visibly more than with the setting `false` (it is
    /// not ignored), dw bit for bit the same, and the default (`nil`) the same as `true`.
    func testTrainingOnLargeTilesAtBFloat16() throws {
        guard KernelConfiguration.isBFloat16Available else { throw XCTSkip("this CPU has no AVX512_BF16") }
        for c in ["conv_3x3_pad1", "conv_small_planes", "conv_3x3_large_b2"] {
            let meta = try fixture(c, "meta").scalars.map(Int.init)
            let expected = (y: try fixture(c, "y"), dx: try fixture(c, "dx"), dw: try fixture(c, "dw"))
            func run(forward4x4: Bool?) throws -> (y: Tensor, dx: Tensor, dw: Tensor) {
                try KernelConfiguration.withCurrent(changing: {
                    $0.kernelSet = .avx512; $0.gemm = .tensorKit; $0.precision = .bfloat16
                    $0.winogradMinimumTilesPerWorker = 0; $0.winogradLargeTileTrainingMinimum = 0
                    $0.winogradLargeTilesForward = forward4x4
                }) {
                    let x = try fixture(c, "x").requiringGrad(), w = try fixture(c, "w").requiringGrad()
                    let b = meta[2] == 1 ? try fixture(c, "b").requiringGrad() : nil
                    let g = ConvGeometry(
                        batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                        outChannels: w.shape[0], kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
                    XCTAssertEqual(Winograd.usesLargeTilesForward(g), forward4x4 ?? true, "\(c): forward on F(4x4)")
                    XCTAssertEqual(Winograd.usesLargeTilesForInputGradient(g), forward4x4 ?? true, "\(c): dx on F(4x4)")
                    XCTAssertFalse(Winograd.usesLargeTilesForWeightGradient(g), "\(c): dw on 2x2 tiles at bf16")
                    let y = conv2d(x, weight: w, bias: b, stride: meta[0], padding: meta[1])
                    y.backward(gradient: try fixture(c, "gy"))
                    return (y, try XCTUnwrap(x.grad), try XCTUnwrap(w.grad))
                }
            }
            let large = try run(forward4x4: true), small = try run(forward4x4: false)
            for (name, a, b, e) in [
                ("forward", large.y, small.y, expected.y), ("dx", large.dx, small.dx, expected.dx),
                ("dw", large.dw, small.dw, expected.dw),
            ] {
                XCTAssertLessThanOrEqual(l2Error(a, e), 5e-2, "\(c) \(name), F(4x4) at bfloat16")
                XCTAssertLessThanOrEqual(l2Error(b, e), 1e-2, "\(c) \(name), F(2x2) at bfloat16")
            }
            for (name, a, b, e) in [("forward", large.y, small.y, expected.y), ("dx", large.dx, small.dx, expected.dx)] {
                // 1.5x: see testLargeWinogradTilesAtBFloat16 on the points' rounding.
                XCTAssertGreaterThan(l2Error(a, e), 1.5 * l2Error(b, e), "\(c) \(name): F(4x4) rounds like F(2x2): was it used?")
            }
            XCTAssertEqual(large.dw.scalars, small.dw.scalars, "\(c): dw does not depend on the forward tiles")
            let byDefault = try run(forward4x4: nil)
            XCTAssertEqual(byDefault.y.scalars, large.y.scalars, "\(c): bfloat16 trains on F(4x4) by default")
            XCTAssertEqual(byDefault.dx.scalars, large.dx.scalars, "\(c): bfloat16's dx on F(4x4) by default")
        }
    }

    /// `‖a − e‖₂ / ‖e‖₂`.
    private func l2Error(_ actual: Tensor, _ expected: Tensor) -> Double {
        precondition(actual.shape == expected.shape)
        let a = actual.scalars, e = expected.scalars
        var d = 0.0, s = 0.0
        for i in e.indices {
            d += (Double(a[i]) - Double(e[i])) * (Double(a[i]) - Double(e[i]))
            s += Double(e[i]) * Double(e[i])
        }
        return (d / max(s, 1e-30)).squareRoot()
    }

    /// A layer frozen at one precision and then called at the other uses the filters packed for
    /// the precision in force at each call.
    func testFrozenFiltersArePackedPerPrecision() throws {
        guard KernelConfiguration.isAVX512Available else { throw XCTSkip("no AVX-512: the filters are not packed") }
        var g = RandomGenerator(seed: 5)
        let conv = Conv2d(32, 32, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: &g)
        let x = randomTensor([2, 32, 8, 40], seed: 6)
        let folded = FoldedConv2d(conv, batchNorm: nil)
        let before = withNoGrad { folded(x) }
        // F(2×2) at both precisions here; testLargeWinogradTilesAtBFloat16 does the same for F(4×4).
        let bf16 = KernelConfiguration.withCurrent(changing: {
            $0.precision = .bfloat16; $0.winogradLargeTiles = false
        }) { withNoGrad { folded(x) } }
        let after = withNoGrad { folded(x) }
        XCTAssertEqual(before.scalars, after.scalars, "float32 again after a bfloat16 call")
        XCTAssertNotEqual(before.scalars, bf16.scalars)
        XCTAssertLessThanOrEqual(relativeError(bf16, before), 1.5e-2)
    }

    func testEnvironmentSelectsThePrecision() {
        XCTAssertEqual(KernelConfiguration(environment: [:]).precision, .float32)
        XCTAssertEqual(KernelConfiguration(environment: ["TENSORKIT_PRECISION": "bf16"]).precision, .bfloat16)
        XCTAssertEqual(KernelConfiguration(environment: ["TENSORKIT_PRECISION": "BFloat16"]).precision, .bfloat16)
        XCTAssertEqual(KernelConfiguration(environment: ["TENSORKIT_PRECISION": "fp16"]).precision, .float32, "unknown: ignored")
        XCTAssertTrue(KernelConfiguration(environment: ["TENSORKIT_PRECISION": "bf16"]).description.contains("precision=bf16"))
    }
}
