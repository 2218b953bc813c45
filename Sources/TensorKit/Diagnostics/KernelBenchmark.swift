import _CBLAS
import _TensorKitGEMM
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

    /// The machine's multiply-add rate on TensorKit's workers: the physical limit a kernel's
    /// FLOP rate is a fraction of.
    public struct PeakRate: Sendable, Equatable {
        /// Float32 GFLOP/s of all the workers at once, with the widest FMA this CPU has.
        public var float32: Double
        /// That FMA: `"avx512"` (512-bit) or `"avx2"` (256-bit); `nil` where TensorKit has no
        /// FMA loop for this CPU (then ``float32`` is 0).
        public var float32Instructions: String?
        /// GFLOP/s of bfloat16 dot products into float32 (`vdpbf16ps`, two multiplies and two
        /// adds per lane), or `nil` without AVX512_BF16.
        public var bfloat16: Double?
        /// Workers measured at once.
        public var threads: Int
    }

    /// Measures ``PeakRate`` on `threads` workers at once: each runs twelve independent
    /// multiply-add chains from registers (`tkgemm_peak_flops`), ~0.2 s per timing, best of
    /// `repetitions`. It runs at the clock the cores reach under that load (boost, AVX-512
    /// licences), so it can exceed an estimate from the nominal clock.
    /// `threads` defaults to ``workerThreads``.
    public static func peakRate(threads: Int? = nil, repetitions: Int = 3) -> PeakRate {
        let threads = threads ?? workerThreads
        precondition(threads > 0 && repetitions > 0, "peakRate: threads \(threads) and repetitions \(repetitions) must be positive")
        func rate(_ kind: Int32, iterations: Int64) -> Double? {
            guard tkgemm_peak_flops(kind, 1) > 0 else { return nil }
            var best = 0.0
            for _ in 0..<repetitions {
                let done = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
                defer { done.deallocate() }
                let out = UncheckedSendable(done)
                let t0 = DispatchTime.now().uptimeNanoseconds
                KernelConfiguration.withCurrent(changing: { $0.threads = threads }) {
                    Parallel.blocks(threads, blocks: threads) { t, _, _ in
                        out.value[t] = tkgemm_peak_flops(kind, iterations)
                    }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                best = max(best, done.reduce(0, +) / seconds / 1e9)
            }
            return best
        }
        let avx512 = rate(Int32(TKGEMM_PEAK_FP32_AVX512), iterations: 50_000_000)
        let avx2 = avx512 == nil ? rate(Int32(TKGEMM_PEAK_FP32_AVX2), iterations: 100_000_000) : nil
        return PeakRate(
            float32: avx512 ?? avx2 ?? 0, float32Instructions: avx512 != nil ? "avx512" : avx2 != nil ? "avx2" : nil,
            bfloat16: rate(Int32(TKGEMM_PEAK_BF16_AVX512), iterations: 50_000_000), threads: threads)
    }

    /// The OpenBLAS kernel family TensorKit runs (e.g. `SkylakeX` or `Haswell`).
    public static var blasKernels: String { BLAS.coreName }

    /// TensorKit's worker-thread count in the current ``KernelConfiguration`` (the cores it
    /// spreads kernels over; `TENSORKIT_NUM_THREADS` sets it).
    public static var workerThreads: Int { Parallel.workers }
}
