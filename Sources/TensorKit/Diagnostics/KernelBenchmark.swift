import _CBLAS
import Foundation

/// Measurements of the machine's ceilings, for benchmarks that compare TensorKit's kernels
/// against them.
public enum KernelBenchmark {
    /// The best of `repetitions` timings of one OpenBLAS `sgemm` of `m × n × k` (row-major, no
    /// transposes) with OpenBLAS's own threading on `threads` threads, in GFLOP/s (2·m·n·k per
    /// call). This is the ceiling a convolution lowered to the same GEMM could reach.
    /// TensorKit's single-threaded OpenBLAS setting is restored afterwards.
    public static func sgemmGFLOPs(m: Int, n: Int, k: Int, threads: Int, repetitions: Int = 5) -> Double {
        precondition(m > 0 && n > 0 && k > 0 && threads > 0 && repetitions > 0,
                     "KernelBenchmark.sgemmGFLOPs: sizes \(m)x\(n)x\(k), threads \(threads) and repetitions \(repetitions) must be positive")
        var g = RandomGenerator(seed: 1)
        let a = Initialization.uniform([m, k], bound: 1, generator: &g)
        let b = Initialization.uniform([k, n], bound: 1, generator: &g)
        let c = Tensor(uninitializedShape: [m, n])
        BLAS.gemm(.none, .none, m: 1, n: 1, k: 1, a: a.pointer, lda: 1, b: b.pointer, ldb: 1, c: c.pointer, ldc: 1)
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        var best = Double.infinity
        for _ in 0..<(repetitions + 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                        a.pointer, Int32(k), b.pointer, Int32(n), 0, c.pointer, Int32(n))
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// The OpenBLAS kernel family TensorKit runs (e.g. `SkylakeX` or `Haswell`).
    public static var blasKernels: String { BLAS.coreName }

    /// TensorKit's worker-thread count (the cores it spreads kernels over; override with the
    /// `TENSORKIT_NUM_THREADS` environment variable).
    public static var workerThreads: Int { Parallel.workers }
}
