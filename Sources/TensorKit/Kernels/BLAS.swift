import _CBLAS
import _TensorKitGEMM
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Single-precision GEMM, with TensorKit's own threading: TensorKit's AVX-512 kernels
/// (`_TensorKitGEMM`) where the CPU has AVX-512, its AVX2 kernels where it has AVX2 and FMA,
/// OpenBLAS elsewhere and for tiny products (see ``KernelConfiguration``).
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
    /// uses it (AVX-512 kernels, or AVX2 ones at float32; `gemm` `.tensorKit`) and the product
    /// has at least ``KernelConfiguration/minimumTensorKitGEMMWork`` multiply-adds, else OpenBLAS.
    static func kernel(m: Int, n: Int, k: Int, _ configuration: KernelConfiguration = .current) -> Kernel {
        (configuration.usesTensorKitGEMM || configuration.usesAVX2GEMM)
            && m * n * k >= configuration.minimumTensorKitGEMMWork ? .tensorKit : .openBLAS
    }

    /// The register tile of TensorKit's kernel under `configuration` (rows × columns of C):
    /// 8 × 48 for AVX-512, 6 × 16 for AVX2. Work split on its boundaries keeps every worker's
    /// partial tiles to the true edge of C.
    static func tile(_ configuration: KernelConfiguration) -> (rows: Int, columns: Int) {
        configuration.usesAVX2GEMM ? (6, 16) : (8, 48)
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
            // Splitting on the kernel's tile boundaries keeps every worker's edge tiles (partly
            // wasted work) to the true edge of C.
            let own = kernel(m: m / workers, n: n, k: k, configuration) == .tensorKit
            let tile = own ? Self.tile(configuration) : (rows: 1, columns: 1)
            if m >= n || m >= 64 * workers {
                let unit = tile.rows
                Parallel.forRange((m + unit - 1) / unit, grain: 1) { lo, hi in
                    let r0 = lo * unit, r1 = min(m, hi * unit)
                    // Rows r0..<r1 of op(A): for a transposed A those are columns of the stored A.
                    let aSub = ta == .none ? a + r0 * lda : a + r0
                    raw(
                        ta, tb, m: r1 - r0, n: n, k: k, alpha: alpha, a: aSub, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + r0 * ldc, ldc: ldc, configuration)
                }
            } else {
                let unit = tile.columns
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
        /// How the elements are stored.
        enum Format: Equatable {
            /// Float32 panels (`tkgemm_pack_a`).
            case float32
            /// Float32 6-row panels (`tkgemm_avx2_pack_a`) for the AVX2 kernel; op(B) not transposed.
            case float32AVX2
            /// Float32 panels of values already rounded to bfloat16, whose products round op(B)
            /// too: bfloat16 emulated where the CPU has no AVX512_BF16.
            case bfloat16Emulated
            /// Bfloat16 pairs (`tkgemm_pack_a_bf16`), multiplied with `vdpbf16ps`.
            case bfloat16
        }
        /// Rows of `op(A)` (the `m` of the products).
        let rows: Int
        /// Columns of `op(A)` (the `k` of the products).
        let depth: Int
        let format: Format
        private let storage: TensorStorage

        fileprivate init(rows: Int, depth: Int, format: Format, storage: TensorStorage) {
            self.rows = rows
            self.depth = depth
            self.format = format
            self.storage = storage
        }

        var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
        var bfloat16Pointer: UnsafePointer<UInt16> {
            UnsafeRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
        }
        /// The operand precision of products with this matrix.
        var precision: KernelConfiguration.Precision { format == .float32 || format == .float32AVX2 ? .float32 : .bfloat16 }
    }

    /// Packs `op(A)` (`m × k`) for ``gemm(_:_:n:b:ldb:beta:c:ldc:parallel:)`` at the current
    /// ``KernelConfiguration/precision``, or `nil` when TensorKit's kernel is not in use here
    /// (no AVX-512, portable kernels, or `gemm` set to `.openBLAS`): callers then keep calling
    /// the unpacked GEMM.
    static func pack(_ ta: Transpose, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) -> PackedMatrix? {
        let configuration = KernelConfiguration.current
        if configuration.usesAVX2GEMM, ta == .none, m > 0, k > 0 {
            let storage = TensorStorage(capacity: tkgemm_avx2_packed_a_size(m, k))
            tkgemm_avx2_pack_a(m, k, a, lda, storage.pointer)
            return PackedMatrix(rows: m, depth: k, format: .float32AVX2, storage: storage)
        }
        guard configuration.usesTensorKitGEMM, m > 0, k > 0 else { return nil }
        let t: Int32 = ta == .none ? 0 : 1
        switch configuration.precision {
        case .float32:
            let storage = TensorStorage(capacity: tkgemm_packed_a_size(m, k))
            tkgemm_pack_a(t, m, k, a, lda, storage.pointer)
            return PackedMatrix(rows: m, depth: k, format: .float32, storage: storage)
        case .bfloat16 where KernelConfiguration.isBFloat16Available:
            // Two bfloat16 per float of storage.
            let storage = TensorStorage(capacity: (tkgemm_packed_a_bf16_size(m, k) + 1) / 2)
            let raw = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
            tkgemm_pack_a_bf16(t, m, k, a, lda, raw)
            return PackedMatrix(rows: m, depth: k, format: .bfloat16, storage: storage)
        case .bfloat16:
            let rounded = BFloat16Emulation.rounded(ta, rows: m, columns: k, a, ld: lda)
            let storage = TensorStorage(capacity: tkgemm_packed_a_size(m, k))
            withExtendedLifetime(rounded) { tkgemm_pack_a(t, m, k, rounded.pointer, rounded.ld, storage.pointer) }
            return PackedMatrix(rows: m, depth: k, format: .bfloat16Emulated, storage: storage)
        }
    }

    /// `C[m×n] = A · op(B)[k×n] + beta · C` with `A` packed by ``pack(_:m:k:a:lda:)``
    /// (`m`, `k` are its rows and depth), at the precision it was packed for. With `parallel`,
    /// rows (or, when there are few rows, columns) of C are split across the workers on the
    /// kernel's tile boundaries.
    static func gemm(
        _ a: PackedMatrix, _ tb: Transpose, n: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = false
    ) {
        let k = a.depth
        guard n > 0 else { return }
        if a.format == .bfloat16Emulated {
            let rounded = BFloat16Emulation.rounded(tb, rows: k, columns: n, b, ld: ldb)
            return withExtendedLifetime(rounded) {
                gemmPacked(a, tb, n: n, b: rounded.pointer, ldb: rounded.ld, beta: beta, c: c, ldc: ldc, parallel: parallel)
            }
        }
        gemmPacked(a, tb, n: n, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, parallel: parallel)
    }

    /// Floats of storage for a `k × n` B packed for bfloat16 products (two bfloat16 in each):
    /// the layout `tkgemm_sgemm_packed_ab_bf16` reads and producers such as the Winograd input
    /// transform write directly.
    static func packedBSize(k: Int, n: Int) -> Int { (tkgemm_packed_b_bf16_size(k, n) + 1) / 2 }

    /// `C[m × n] = A · B` (C not read) with A packed for bfloat16 products and B already packed in
    /// that layout (``packedBSize(k:n:)`` floats at `packedB`): no packing on the call.
    static func gemm(_ a: PackedMatrix, packedB: UnsafePointer<Float>, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(a.format == .bfloat16, "BLAS.gemm(_:packedB:): A must hold bfloat16 pairs")
        tkgemm_sgemm_packed_ab_bf16(
            a.rows, 0, a.rows, n, a.depth, a.bfloat16Pointer,
            UnsafeRawPointer(packedB).assumingMemoryBound(to: UInt16.self), c, ldc)
    }

    private static func gemmPacked(
        _ a: PackedMatrix, _ tb: Transpose, n: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool
    ) {
        let m = a.rows, k = a.depth
        let t: Int32 = tb == .none ? 0 : 1
        @inline(__always) func product(row0: Int, rows: Int, n: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
            if a.format == .float32AVX2 {
                precondition(tb == .none, "BLAS.gemm: the AVX2 kernel takes B untransposed")
                tkgemm_avx2_sgemm_packed_a(m, row0, rows, n, k, a.pointer, b, ldb, beta, c, ldc)
            } else if a.format == .bfloat16 {
                tkgemm_sgemm_packed_a_bf16(m, row0, rows, t, n, k, 1, a.bfloat16Pointer, b, ldb, beta, c, ldc)
            } else {
                tkgemm_sgemm_packed_a(m, row0, rows, t, n, k, 1, a.pointer, b, ldb, beta, c, ldc)
            }
        }
        let workers = parallel ? KernelConfiguration.current.threads : 1
        if workers > 1, m * n * k >= 1 << 18 {
            if m >= n || m >= 64 * workers {
                // Row ranges start on the kernel's panels: 8 rows (AVX-512), 6 (AVX2).
                let unit = a.format == .float32AVX2 ? 6 : 8
                Parallel.forRange((m + unit - 1) / unit, grain: 1) { lo, hi in
                    let r0 = lo * unit, r1 = min(m, hi * unit)
                    product(row0: r0, rows: r1 - r0, n: n, b: b, c: c + r0 * ldc)
                }
            } else {
                let unit = a.format == .float32AVX2 ? 16 : 48
                Parallel.forRange((n + unit - 1) / unit, grain: 1) { lo, hi in
                    let j0 = lo * unit, j1 = min(n, hi * unit)
                    product(row0: 0, rows: m, n: j1 - j0, b: tb == .none ? b + j0 : b + j0 * ldb, c: c + j0)
                }
            }
        } else {
            product(row0: 0, rows: m, n: n, b: b, c: c)
        }
    }

    @inline(__always)
    private static func raw(
        _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, _ configuration: KernelConfiguration
    ) {
        let own = kernel(m: m, n: n, k: k, configuration) == .tensorKit
        if configuration.precision == .bfloat16, m * n * k >= configuration.minimumTensorKitGEMMWork {
            if own, KernelConfiguration.isBFloat16Available,
                tkgemm_sgemm_bf16(ta == .none ? 0 : 1, tb == .none ? 0 : 1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0
            {
                return
            }
            // No AVX512_BF16 (or no scratch for the kernel): the same numbers from rounded copies
            // of the operands and a float32 product, since a product of two bfloat16 is exact
            // in float32.
            let ra = BFloat16Emulation.rounded(ta, rows: m, columns: k, a, ld: lda)
            let rb = BFloat16Emulation.rounded(tb, rows: k, columns: n, b, ld: ldb)
            withExtendedLifetime((ra, rb)) {
                float32(
                    ta, tb, m: m, n: n, k: k, alpha: alpha, a: ra.pointer, lda: ra.ld, b: rb.pointer, ldb: rb.ld,
                    beta: beta, c: c, ldc: ldc, tensorKit: own && configuration.usesTensorKitGEMM)
            }
            return
        }
        float32(
            ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
            tensorKit: own && configuration.usesTensorKitGEMM, avx2: own && configuration.usesAVX2GEMM)
    }

    @inline(__always)
    private static func float32(
        _ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, tensorKit: Bool, avx2: Bool = false
    ) {
        // A non-zero status means TensorKit's kernel could not get its scratch memory and left C
        // untouched: OpenBLAS (which manages its own buffers) computes the product instead.
        let t = (a: Int32(ta == .none ? 0 : 1), b: Int32(tb == .none ? 0 : 1))
        if tensorKit, tkgemm_sgemm(t.a, t.b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0 {
            return
        }
        if avx2, tkgemm_avx2_sgemm(t.a, t.b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0 {
            return
        }
        cblas_sgemm(
            CblasRowMajor, ta == .none ? CblasNoTrans : CblasTrans, tb == .none ? CblasNoTrans : CblasTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Bfloat16 operands without AVX512_BF16: copies of the operands rounded to bfloat16
/// (`tkgemm_round_bf16`, the rounding of `vcvtne2ps2bf16`), multiplied in float32.
enum BFloat16Emulation {
    /// A rounded operand: `ld` floats per stored row.
    struct Operand {
        let storage: TensorStorage
        let ld: Int
        var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
    }

    /// A rounded copy of the stored matrix behind `op(X)` (`rows × columns`; a transposed X is
    /// stored `columns × rows`), packed densely, with its row stride.
    static func rounded(
        _ t: BLAS.Transpose, rows: Int, columns: Int, _ x: UnsafePointer<Float>, ld: Int
    ) -> Operand {
        let (storedRows, storedColumns) = t == .none ? (rows, columns) : (columns, rows)
        let copy = TensorStorage(capacity: max(1, storedRows * storedColumns))
        for r in 0..<storedRows {
            tkgemm_round_bf16(x + r * ld, copy.pointer + r * storedColumns, storedColumns)
        }
        return Operand(storage: copy, ld: storedColumns)
    }
}
