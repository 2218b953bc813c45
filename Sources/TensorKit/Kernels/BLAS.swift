import _CBLAS
import _TensorKitGEMM
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision GEMM, with TensorKit's own threading: TensorKit's AVX-512 kernels
/// (`_TensorKitGEMM`) where the CPU has AVX-512, OpenBLAS elsewhere and for tiny products (see ``KernelConfiguration``).
///
/// Why a kernel of our own: machines like this project's pin OpenBLAS to its AVX2 (Haswell)
/// kernels, because older OpenBLAS builds miscompute or crash with their default kernels on
/// CPUs newer than the library; on AVX-512 CPUs those run the convolution GEMMs at about half
/// the speed of a 512-bit kernel. `TENSORKIT_GEMM=openblas` or `TENSORKIT_KERNELS=portable` turns
/// TensorKit's kernels off.
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

    /// Picks OpenBLAS's kernel family once, before TensorKit's first GEMM, only when asked
    /// (``KernelConfiguration/openBLASCoreType``, from `TENSORKIT_OPENBLAS_CORETYPE`): a
    /// DYNAMIC_ARCH OpenBLAS is re-initialised with that family; otherwise OpenBLAS's own choice
    /// and any `OPENBLAS_CORETYPE` stand.
    ///
    /// Why opt-in: some machines pin `OPENBLAS_CORETYPE` because older OpenBLAS builds compute
    /// wrong results or crash with their default kernels on CPUs newer than the library (Debian
    /// 12's 0.3.21 on Zen 4 among them). The AVX-512 kernels ran the convolution GEMMs 1.5-2x
    /// faster here and TensorKit's tests pass with them, but an explicit choice is the user's.
    private static func selectKernelsIfRequested() {
        guard let target = KernelConfiguration.openBLASCoreType else { return }
        guard let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
            let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init")
        else { return }
        typealias VoidFunction = @convention(c) () -> Void
        let previous = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: VoidFunction.self)()
        unsafeBitCast(initialise, to: VoidFunction.self)()
        if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
    }

    enum Transpose { case none, transposed }

    /// The SGEMM implementations behind ``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)``.
    enum Kernel: String, Sendable { case tensorKit, openBLAS }

    /// The kernel ``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)`` uses for one
    /// worker's `m × n × k` product under `configuration`: TensorKit's when the configuration
    /// uses it (AVX-512 kernels, `gemm` `.tensorKit`) and the product has at least
    /// ``KernelConfiguration/minimumTensorKitGEMMWork`` multiply-adds, else OpenBLAS.
    static func kernel(m: Int, n: Int, k: Int, _ configuration: KernelConfiguration = .current) -> Kernel {
        configuration.usesTensorKitGEMM && m * n * k >= configuration.minimumTensorKitGEMMWork ? .tensorKit : .openBLAS
    }

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
        let configuration = KernelConfiguration.current
        let workers = parallel ? configuration.threads : 1
        if workers > 1, m * n * k >= 1 << 18 {
            // TensorKit's kernel computes 8 × 48 tiles: splitting on tile boundaries keeps every
            // worker's edge tiles (partly wasted work) to the true edge of C.
            let own = kernel(m: m / workers, n: n, k: k, configuration) == .tensorKit
            if m >= n || m >= 64 * workers {
                let unit = own ? 8 : 1
                Parallel.forRange((m + unit - 1) / unit, grain: 1) { lo, hi in
                    let r0 = lo * unit, r1 = min(m, hi * unit)
                    // Rows r0..<r1 of op(A): for a transposed A those are columns of the stored A.
                    let aSub = ta == .none ? a + r0 * lda : a + r0
                    raw(
                        ta, tb, m: r1 - r0, n: n, k: k, alpha: alpha, a: aSub, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + r0 * ldc, ldc: ldc, configuration)
                }
            } else {
                let unit = own ? 48 : 1
                Parallel.forRange((n + unit - 1) / unit, grain: 1) { lo, hi in
                    let j0 = lo * unit, j1 = min(n, hi * unit)
                    let bSub = tb == .none ? b + j0 : b + j0 * ldb
                    raw(
                        ta, tb, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda, b: bSub, ldb: ldb,
                        beta: beta, c: c + j0, ldc: ldc, configuration)
                }
            }
        } else {
            raw(
                ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                configuration)
        }
    }

    /// `op(A)` packed once in the panel layout of TensorKit's kernel, for products that reuse
    /// the same A on every call (frozen inference filters): the per-call packing of A, which
    /// streams the whole filter bank through the cache once more, is then skipped.
    final class PackedMatrix: @unchecked Sendable {
        /// Rows of `op(A)` (the `m` of the products).
        let rows: Int
        /// Columns of `op(A)` (the `k` of the products).
        let depth: Int
        private let storage: TensorStorage

        fileprivate init(rows: Int, depth: Int, storage: TensorStorage) {
            self.rows = rows
            self.depth = depth
            self.storage = storage
        }

        var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
    }

    /// Packs `op(A)` (`m × k`) for ``gemm(_:_:n:b:ldb:beta:c:ldc:parallel:)``, or `nil` when
    /// TensorKit's kernel is not in use here (no AVX-512, portable kernels, or `gemm` set to
    /// `.openBLAS`): callers then keep calling the unpacked GEMM.
    static func pack(_ ta: Transpose, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) -> PackedMatrix? {
        guard KernelConfiguration.current.usesTensorKitGEMM, m > 0, k > 0 else { return nil }
        let storage = TensorStorage(capacity: tkgemm_packed_a_size(m, k))
        tkgemm_pack_a(ta == .none ? 0 : 1, m, k, a, lda, storage.pointer)
        return PackedMatrix(rows: m, depth: k, storage: storage)
    }

    /// `C[m×n] = A · op(B)[k×n] + beta · C` with `A` packed by ``pack(_:m:k:a:lda:)``
    /// (`m`, `k` are its rows and depth). With `parallel`, rows (or, when there are few rows,
    /// columns) of C are split across the workers on the kernel's tile boundaries.
    static func gemm(
        _ a: PackedMatrix, _ tb: Transpose, n: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = false
    ) {
        let m = a.rows, k = a.depth
        guard n > 0 else { return }
        let t: Int32 = tb == .none ? 0 : 1
        let workers = parallel ? KernelConfiguration.current.threads : 1
        if workers > 1, m * n * k >= 1 << 18 {
            if m >= n || m >= 64 * workers {
                Parallel.forRange((m + 7) / 8, grain: 1) { lo, hi in
                    let r0 = lo * 8, r1 = min(m, hi * 8)
                    tkgemm_sgemm_packed_a(m, r0, r1 - r0, t, n, k, 1, a.pointer, b, ldb, beta, c + r0 * ldc, ldc)
                }
            } else {
                Parallel.forRange((n + 47) / 48, grain: 1) { lo, hi in
                    let j0 = lo * 48, j1 = min(n, hi * 48)
                    let bSub = tb == .none ? b + j0 : b + j0 * ldb
                    tkgemm_sgemm_packed_a(m, 0, m, t, j1 - j0, k, 1, a.pointer, bSub, ldb, beta, c + j0, ldc)
                }
            }
        } else {
            tkgemm_sgemm_packed_a(m, 0, m, t, n, k, 1, a.pointer, b, ldb, beta, c, ldc)
        }
    }

    @inline(__always)
    private static func raw(
        _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, _ configuration: KernelConfiguration
    ) {
        // A non-zero status means TensorKit's kernel could not get its scratch memory and left C
        // untouched: OpenBLAS (which manages its own buffers) computes the product instead.
        if kernel(m: m, n: n, k: k, configuration) == .tensorKit,
            tkgemm_sgemm(ta == .none ? 0 : 1, tb == .none ? 0 : 1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0
        {
            return
        }
        cblas_sgemm(
            CblasRowMajor, ta == .none ? CblasNoTrans : CblasTrans, tb == .none ? CblasNoTrans : CblasTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
