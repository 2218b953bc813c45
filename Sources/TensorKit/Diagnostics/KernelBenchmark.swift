import _CBLAS
import Foundation

/// Measurements of the machine's ceilings, for benchmarks that compare TensorKit's kernels
/// against them. Benchmark-only: `@_spi(Benchmarks) import TensorKit` (the `audiocnn bench`
/// commands); not part of TensorKit's stable API.
@_spi(Benchmarks)
public enum KernelBenchmark {
    /// The best of `repetitions` timings of one OpenBLAS `sgemm` of `m × n × k` (row-major, no
    /// transposes) with OpenBLAS's own threading on `threads` threads, in GFLOP/s (2·m·n·k per
    /// call). This is the ceiling a convolution lowered to the same GEMM could reach.
    /// TensorKit's single-threaded OpenBLAS setting is restored afterwards.
    public static func sgemmGFLOPs(m: Int, n: Int, k: Int, threads: Int, repetitions: Int = 5) -> Double {
        SGEMMProbe(m: m, n: n, k: k).measure(threads: threads, repetitions: repetitions)
    }

    /// Operands for repeated ceiling measurements of one GEMM shape (allocated once).
    public final class SGEMMProbe {
        let m, n, k: Int
        let a, b, c: Tensor

        /// Random `m × k` and `k × n` operands.
        /// - Precondition: all sizes positive.
        public init(m: Int, n: Int, k: Int) {
            precondition(m > 0 && n > 0 && k > 0, "KernelBenchmark.SGEMMProbe: sizes \(m)x\(n)x\(k) must be positive")
            self.m = m; self.n = n; self.k = k
            var g = RandomGenerator(seed: 1)
            a = Initialization.uniform([m, k], bound: 1, generator: &g)
            b = Initialization.uniform([k, n], bound: 1, generator: &g)
            c = Tensor(zeros: [m, n])
        }

        /// GFLOP/s of the best of `repetitions` (plus one warm-up) calls on `threads` OpenBLAS threads.
        public func measure(threads: Int, repetitions: Int = 1) -> Double {
            precondition(
                threads > 0 && repetitions > 0, "SGEMMProbe.measure: threads \(threads) and repetitions \(repetitions) must be positive")
            _ = BLAS.coreName  // TensorKit's OpenBLAS configuration first
            openblas_set_num_threads(Int32(threads))
            defer { openblas_set_num_threads(1) }
            var best = Double.infinity
            for _ in 0..<(repetitions + 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a.pointer, Int32(k), b.pointer, Int32(n), 0, c.pointer, Int32(n))
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
        }
    }

    /// The OpenBLAS kernel family TensorKit runs (e.g. `SkylakeX` or `Haswell`).
    public static var blasKernels: String { BLAS.coreName }

    /// TensorKit's worker-thread count in the current ``KernelConfiguration`` (the cores it
    /// spreads kernels over; `TENSORKIT_NUM_THREADS` sets it).
    public static var workerThreads: Int { Parallel.workers }
}
