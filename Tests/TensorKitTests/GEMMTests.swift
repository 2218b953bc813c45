import XCTest
@testable import TensorKit

/// `BLAS.gemm` with TensorKit's AVX-512 and AVX2 kernels and with the OpenBLAS fallback, against
/// a naive float64 product; then the PyTorch convolution fixtures through each kernel.
final class GEMMTests: XCTestCase {
    /// Runs `body` with `kernel` selected for every product size (TensorKit's from `set`); throws
    /// XCTSkip when this CPU cannot run it.
    private func using(
        _ kernel: BLAS.Kernel, _ set: KernelConfiguration.KernelSet = .avx512, _ body: () throws -> Void
    ) throws {
        if kernel == .tensorKit, set == .avx512, !KernelConfiguration.isAVX512Available {
            throw XCTSkip("this CPU has no AVX-512F/VL + FMA: TensorKit's GEMM kernel cannot run here")
        }
        if kernel == .tensorKit, set == .avx2, !KernelConfiguration.isAVX2Available {
            throw XCTSkip("this CPU has no AVX2 + FMA: TensorKit's AVX2 GEMM kernel cannot run here")
        }
        try KernelConfiguration.withCurrent(changing: {
            if kernel == .tensorKit { $0.kernelSet = set }
            $0.gemm = kernel == .tensorKit ? .tensorKit : .openBLAS
            $0.precision = .float32
            $0.minimumTensorKitGEMMWork = 0
        }) {
            XCTAssertEqual(BLAS.kernel(m: 64, n: 64, k: 64), kernel)
            try body()
        }
    }

    /// Runs one product through `BLAS.gemm` with padded leading dimensions and checks every
    /// element of C against float64, and that C's padding columns are untouched. With
    /// `beta == 0`, C starts as NaN: BLAS semantics say it must not be read.
    /// With `packed`, A goes through `BLAS.pack` once and the product through the pre-packed
    /// GEMM (alpha must then be 1).
    private func check(
        _ ta: BLAS.Transpose, _ tb: BLAS.Transpose, m: Int, n: Int, k: Int,
        alpha: Float, beta: Float, parallel: Bool, seed: UInt64, packed: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var g = RandomGenerator(seed: seed)
        let lda = (ta == .none ? k : m) + 3, ldb = (tb == .none ? n : k) + 5, ldc = n + 2
        let a = (0..<((ta == .none ? m : k) * lda)).map { _ in g.nextUnitFloat() - 0.5 }
        let b = (0..<((tb == .none ? k : n) * ldb)).map { _ in g.nextUnitFloat() - 0.5 }
        let c0 = (0..<(m * ldc)).map { _ in g.nextUnitFloat() - 0.5 }
        var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : c0
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = c0[i * ldc + j] } }
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    if packed {
                        precondition(alpha == 1)
                        guard let pa = BLAS.pack(ta, m: m, k: k, a: ap.baseAddress!, lda: lda) else {
                            return XCTFail("BLAS.pack returned nil with TensorKit's kernel selected", file: file, line: line)
                        }
                        BLAS.gemm(
                            pa, tb, n: n, b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc,
                            parallel: parallel)
                    } else {
                        BLAS.gemm(
                            ta, tb, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                            b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, parallel: parallel)
                    }
                }
            }
        }
        // Float32 rounding of a k-term sum of products in [-0.25, 0.25]: ~ sqrt(k) · 2⁻²⁴ · |terms|.
        let tolerance = 1e-6 * Double(max(k, 1)).squareRoot() + 1e-6
        var worst = 0.0, worstAt = (0, 0)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = Double(ta == .none ? a[i * lda + p] : a[p * lda + i])
                    let y = Double(tb == .none ? b[p * ldb + j] : b[j * ldb + p])
                    s += x * y
                }
                let expected = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j]))
                let error = abs(Double(c[i * ldc + j]) - expected)
                if !(error <= worst) { worst = error; worstAt = (i, j) }
            }
            for j in n..<ldc where c[i * ldc + j] != c0[i * ldc + j] {
                XCTFail("\(ta)\(tb) \(m)x\(n)x\(k): padding column \(j) of row \(i) was written", file: file, line: line)
                return
            }
        }
        XCTAssertLessThanOrEqual(
            worst, tolerance,
            "\(ta)/\(tb) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta): worst error at \(worstAt)",
            file: file, line: line)
    }

    /// Edge sizes around the register tile (8 × 48 for AVX-512, 6 × 16 for AVX2) and the 256-deep
    /// K slices, all transposes, beta 0 / 1 / other, alpha 1 / other.
    private func checkShapes(_ kernel: BLAS.Kernel, _ set: KernelConfiguration.KernelSet = .avx512) throws {
        try using(kernel, set) {
            let sizes =
                kernel == .tensorKit && set == .avx2
                ? [1, 5, 6, 7, 12, 13, 16, 17, 31, 33, 97] : [1, 7, 8, 9, 13, 31, 33, 47, 48, 49, 97]
            var seed: UInt64 = 1
            for ta in [BLAS.Transpose.none, .transposed] {
                for tb in [BLAS.Transpose.none, .transposed] {
                    for (im, m) in sizes.enumerated() {
                        for (jn, n) in sizes.enumerated() where (im + jn) % 2 == 0 || m == 1 || n == 1 {
                            for k in [1, 13, 33, 97] {
                                let beta: Float = [0, 1, 0.5][(im + jn + k) % 3]
                                let alpha: Float = (im + k) % 4 == 0 ? 0.75 : 1
                                check(ta, tb, m: m, n: n, k: k, alpha: alpha, beta: beta, parallel: false, seed: seed)
                                seed += 1
                            }
                        }
                    }
                    // Several K slices, several column blocks (576 wide for AVX-512, 192 for AVX2),
                    // and a worker split on and off tiles.
                    check(ta, tb, m: 100, n: 700, k: 600, alpha: 1, beta: 1, parallel: false, seed: seed)
                    check(ta, tb, m: 64, n: 1250, k: 300, alpha: 1, beta: 0, parallel: true, seed: seed + 1)
                    check(ta, tb, m: 300, n: 56, k: 520, alpha: 1, beta: 0, parallel: true, seed: seed + 2)
                    check(ta, tb, m: 33, n: 97, k: 257, alpha: 1, beta: 0.5, parallel: true, seed: seed + 3)
                    seed += 4
                }
            }
        }
    }

    func testTensorKitKernelAgainstFloat64() throws {
        try checkShapes(.tensorKit)
    }

    /// The AVX2 kernel with op(B) packed per call and A read in place (or packed when transposed):
    /// every product but the Winograd filters' on CPUs without AVX-512. Rows 1, 5, 7, 13, ... end
    /// inside the 6-row tile, where the in-place kernel must not read past A's last row.
    func testAVX2KernelAgainstFloat64() throws {
        try checkShapes(.tensorKit, .avx2)
    }

    /// A packed once (frozen filters), the same edge sizes, K slicing (k = 600 and 4608 make
    /// 3 and 18 equal slices, k = 520 a shorter last one) and row / column splits between workers.
    func testPrepackedAAgainstFloat64() throws {
        try using(.tensorKit) {
            let sizes = [1, 7, 8, 9, 31, 48, 49, 97]
            var seed: UInt64 = 5000
            for ta in [BLAS.Transpose.none, .transposed] {
                for tb in [BLAS.Transpose.none, .transposed] {
                    for (im, m) in sizes.enumerated() {
                        for (jn, n) in sizes.enumerated() where (im + jn) % 2 == 0 {
                            for k in [1, 13, 97, 600] {
                                let beta: Float = [0, 1, 0.5][(im + jn + k) % 3]
                                check(
                                    ta, tb, m: m, n: n, k: k, alpha: 1, beta: beta, parallel: (im + k) % 2 == 0,
                                    seed: seed, packed: true)
                                seed += 1
                            }
                        }
                    }
                    check(ta, tb, m: 300, n: 56, k: 520, alpha: 1, beta: 0, parallel: true, seed: seed, packed: true)
                    check(ta, tb, m: 36, n: 700, k: 300, alpha: 1, beta: 1, parallel: true, seed: seed + 1, packed: true)
                    seed += 2
                }
            }
            check(.none, .none, m: 64, n: 14, k: 4608, alpha: 1, beta: 0, parallel: true, seed: seed, packed: true)
        }
    }

    /// The AVX2 set's packed-A kernel (frozen float32 Winograd filters on CPUs without AVX-512):
    /// edge sizes around its 6 × 16 tile and 192-column blocks, narrow products as at batch 1,
    /// and row (6-row panels) and column splits between workers, against float64. It takes A
    /// and B untransposed only: a transposed A is not packed.
    func testAVX2PrepackedAAgainstFloat64() throws {
        guard KernelConfiguration.isAVX2Available else { throw XCTSkip("this CPU has no AVX2/FMA") }
        KernelConfiguration.withCurrent(changing: {
            $0.kernelSet = .avx2; $0.gemm = .tensorKit; $0.precision = .float32
        }) {
            let a = [Float](repeating: 1, count: 64)
            let transposed = a.withUnsafeBufferPointer { BLAS.pack(.transposed, m: 8, k: 8, a: $0.baseAddress!, lda: 8) }
            XCTAssertNil(transposed)
            let packed = a.withUnsafeBufferPointer { BLAS.pack(.none, m: 8, k: 8, a: $0.baseAddress!, lda: 8) }
            XCTAssertEqual(packed?.format, .float32AVX2)
            let sizes = [1, 5, 6, 7, 13, 16, 17, 49, 200]
            var seed: UInt64 = 7000
            for (im, m) in sizes.enumerated() {
                for (jn, n) in sizes.enumerated() where (im + jn) % 2 == 0 || n == 200 {
                    for k in [1, 13, 97, 600] {
                        let beta: Float = [0, 1, 0.5][(im + jn + k) % 3]
                        check(
                            .none, .none, m: m, n: n, k: k, alpha: 1, beta: beta, parallel: (im + k) % 2 == 0, seed: seed,
                            packed: true)
                        seed += 1
                    }
                }
            }
            check(.none, .none, m: 512, n: 14, k: 512, alpha: 1, beta: 0, parallel: true, seed: seed, packed: true)
            check(.none, .none, m: 40, n: 700, k: 300, alpha: 1, beta: 1, parallel: true, seed: seed + 1, packed: true)
        }
    }

    func testPackingIsOffWithTheOpenBLASFallbackAndPortableKernels() throws {
        let a = [Float](repeating: 1, count: 64)
        for change: (inout KernelConfiguration) -> Void in [{ $0.gemm = .openBLAS }, { $0.kernelSet = .portable }] {
            KernelConfiguration.withCurrent(changing: change) {
                XCTAssertNil(a.withUnsafeBufferPointer { BLAS.pack(.none, m: 8, k: 8, a: $0.baseAddress!, lda: 8) })
            }
        }
    }

    func testOpenBLASFallbackAgainstFloat64() throws {
        try checkShapes(.openBLAS)
    }

    func testKernelSelection() throws {
        var configuration = KernelConfiguration()
        configuration.gemm = .openBLAS
        XCTAssertEqual(BLAS.kernel(m: 512, n: 512, k: 512, configuration), .openBLAS, "forced fallback")
        configuration.gemm = .tensorKit
        configuration.kernelSet = .portable
        XCTAssertEqual(BLAS.kernel(m: 512, n: 512, k: 512, configuration), .openBLAS, "portable kernels")
        configuration.kernelSet = .avx512
        XCTAssertEqual(BLAS.kernel(m: 16, n: 50, k: 2, configuration), .openBLAS, "tiny products stay on OpenBLAS")
        // Asked for on a CPU without AVX-512, the AVX-512 set falls back to the AVX2 one.
        XCTAssertEqual(
            BLAS.kernel(m: 64, n: 864, k: 64, configuration),
            KernelConfiguration.isAVX512Available || KernelConfiguration.isAVX2Available ? .tensorKit : .openBLAS)
        configuration.kernelSet = .avx2
        XCTAssertEqual(BLAS.kernel(m: 16, n: 50, k: 2, configuration), .openBLAS, "tiny products stay on OpenBLAS")
        XCTAssertEqual(
            BLAS.kernel(m: 64, n: 864, k: 64, configuration),
            KernelConfiguration.isAVX2Available ? .tensorKit : .openBLAS)
        configuration.precision = .bfloat16
        XCTAssertEqual(BLAS.kernel(m: 64, n: 864, k: 64, configuration), .openBLAS, "AVX2 runs float32 only")
    }

    /// The PyTorch convolution fixtures (forward, dx, dw; Winograd and im2col) through each kernel.
    func testConvolutionFixturesThroughEachKernel() throws {
        let kernels: [(BLAS.Kernel, KernelConfiguration.KernelSet)] = [
            (.tensorKit, .avx512), (.tensorKit, .avx2), (.openBLAS, .avx512),
        ]
        for (kernel, set) in kernels {
            if kernel == .tensorKit, set == .avx512, !KernelConfiguration.isAVX512Available { continue }
            if kernel == .tensorKit, set == .avx2, !KernelConfiguration.isAVX2Available { continue }
            try using(kernel, set) {
                for winograd in [true, false] {
                    try KernelConfiguration.withCurrent(changing: {
                        $0.winograd = winograd; $0.winogradMinimumTilesPerWorker = 0
                    }) {
                        for c in ConvolutionTests.cases {
                            try assertConvolutionMatchesFixture(c, "\(c) (\(kernel) \(set), Winograd \(winograd))")
                        }
                    }
                }
            }
        }
    }
}
