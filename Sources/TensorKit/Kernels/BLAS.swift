import _CBLAS

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
        return true
    }()

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
