import _CBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision GEMM through OpenBLAS, with TensorKit's own threading.
///
/// Why single-threaded OpenBLAS: TensorKit parallelises over images (each worker runs its own
/// im2col and GEMM), which keeps both cores busy through the memory-bound steps between GEMMs
/// too. Letting OpenBLAS spawn its own threads inside those workers would oversubscribe the
/// cores, and its spinning threads would steal time from TensorKit's elementwise kernels. So
/// TensorKit sets OpenBLAS to one thread the first time it calls it and splits large single
/// GEMMs itself (``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)``).
enum BLAS {
    /// Runs once, on the first GEMM.
    private static let configured: Bool = {
        openblas_set_num_threads(1)
        selectKernelsIfRequested()
        return true
    }()

    /// The OpenBLAS kernel family in use (e.g. `Haswell`, `SkylakeX`).
    static var coreName: String {
        _ = configured
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Picks OpenBLAS's kernel family once, before TensorKit's first GEMM, only when asked:
    /// `TENSORKIT_OPENBLAS_CORETYPE=<name>` (e.g. `SKYLAKEX`) re-initialises a DYNAMIC_ARCH
    /// OpenBLAS with that family; unset (or `keep`), OpenBLAS's own choice and any
    /// `OPENBLAS_CORETYPE` stand.
    ///
    /// Why opt-in: some machines pin `OPENBLAS_CORETYPE` because older OpenBLAS builds compute
    /// wrong results or crash with their default kernels on CPUs newer than the library (Debian
    /// 12's 0.3.21 on Zen 4 among them). The AVX-512 kernels ran the convolution GEMMs 1.5-2x
    /// faster here and TensorKit's tests pass with them, but an explicit choice is the user's.
    private static func selectKernelsIfRequested() {
        let env = ProcessInfo.processInfo.environment
        guard let target = env["TENSORKIT_OPENBLAS_CORETYPE"], !target.isEmpty, target.lowercased() != "keep" else { return }
        guard let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
              let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init") else { return }
        typealias VoidFunction = @convention(c) () -> Void
        let previous = env["OPENBLAS_CORETYPE"]
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: VoidFunction.self)()
        unsafeBitCast(initialise, to: VoidFunction.self)()
        if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
    }

    enum Transpose { case none, transposed }

    /// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, row-major. With `parallel`, the
    /// rows (or, when there are few rows, the columns) of C are split across the workers.
    static func gemm(
        _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        parallel: Bool = false
    ) {
        _ = configured
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        let workers = parallel ? Parallel.workers : 1
        if workers > 1, m * n * k >= 1 << 18 {
            if m >= n || m >= 64 * workers {
                Parallel.forRange(m, grain: 1) { lo, hi in
                    // Rows lo..<hi of op(A): for a transposed A those are columns of the stored A.
                    let aSub = ta == .none ? a + lo * lda : a + lo
                    raw(ta, tb, m: hi - lo, n: n, k: k, alpha: alpha, a: aSub, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + lo * ldc, ldc: ldc)
                }
            } else {
                Parallel.forRange(n, grain: 1) { lo, hi in
                    let bSub = tb == .none ? b + lo : b + lo * ldb
                    raw(ta, tb, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda, b: bSub, ldb: ldb,
                        beta: beta, c: c + lo, ldc: ldc)
                }
            }
        } else {
            raw(ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    @inline(__always)
    private static func raw(
        _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, ta == .none ? CblasNoTrans : CblasTrans, tb == .none ? CblasNoTrans : CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
