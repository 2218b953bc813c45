import Foundation

@_spi(Benchmarks)
extension KernelBenchmark {
    /// SGEMM implementations TensorKit can run (see ``GEMMProbe``).
    public enum GEMMKernel: String, CaseIterable, Sendable {
        /// TensorKit's packed AVX-512 kernel (needs AVX-512F/VL and FMA).
        case tensorKit
        /// TensorKit's AVX2/FMA kernel (needs AVX2 and FMA): products without transposes over an
        /// A packed once, as for frozen filters and the Winograd filters of a training call;
        /// products with a transpose packing both operands on every call, as weight gradients do.
        case tensorKitAVX2
        /// OpenBLAS `cblas_sgemm`, single-threaded, with the kernel family in ``blasKernels``.
        case openBLAS
    }

    /// TensorKit's own kernel for this CPU: the AVX-512 one, else the AVX2 one, else `nil`.
    public static var tensorKitGEMMKernel: GEMMKernel? {
        KernelConfiguration.isAVX512Available ? .tensorKit : KernelConfiguration.isAVX2Available ? .tensorKitAVX2 : nil
    }

    /// Operands for timing one row-major product `C[m × n] = op(A)[m × k] · op(B)[k × n]` the way
    /// TensorKit's convolutions run it, allocated once.
    public final class GEMMProbe {
        /// Product sizes.
        public let m, n, k: Int
        /// Whether A (stored `k × m`) or B (stored `n × k`) is transposed.
        public let transposeA, transposeB: Bool
        /// `true`: one product split over the workers (batch-1 inference); `false`: every worker
        /// runs its own product at once (training, where workers own images).
        public let splitOverWorkers: Bool
        private let a, b: TensorStorage
        private let c: [TensorStorage]

        /// Random operands in [-0.5, 0.5).
        /// - Precondition: all sizes positive.
        public init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, splitOverWorkers: Bool) {
            precondition(m > 0 && n > 0 && k > 0, "KernelBenchmark.GEMMProbe: sizes \(m)x\(n)x\(k) must be positive")
            self.m = m; self.n = n; self.k = k
            self.transposeA = transposeA; self.transposeB = transposeB
            self.splitOverWorkers = splitOverWorkers
            var g = RandomGenerator(seed: 3)
            a = TensorStorage(capacity: m * k)
            b = TensorStorage(capacity: k * n)
            for i in 0..<(m * k) { a.pointer[i] = g.nextUnitFloat() - 0.5 }
            for i in 0..<(k * n) { b.pointer[i] = g.nextUnitFloat() - 0.5 }
            c = (0..<(splitOverWorkers ? 1 : Parallel.workers)).map { _ in TensorStorage(zeros: m * n) }
        }

        /// Floating-point operations of one timed call (2·m·n·k per product, per worker
        /// unless split).
        public var flops: Double {
            2 * Double(m) * Double(n) * Double(k) * Double(splitOverWorkers ? 1 : Parallel.workers)
        }

        /// GFLOP/s of the best of `repetitions` timed calls (after one warm-up) with `kernel`
        /// on all of TensorKit's workers (the current configuration with `kernel` forced).
        /// - Returns: `nil` when `kernel` cannot run on this CPU.
        public func measure(_ kernel: GEMMKernel, repetitions: Int = 5) -> Double? {
            precondition(repetitions > 0, "GEMMProbe.measure: repetitions \(repetitions) must be positive")
            var configuration = KernelConfiguration.current
            switch kernel {
            case .tensorKit:
                guard KernelConfiguration.isAVX512Available else { return nil }
                configuration.kernelSet = .avx512
                configuration.gemm = .tensorKit
            case .tensorKitAVX2:
                guard KernelConfiguration.isAVX2Available else { return nil }
                configuration.kernelSet = .avx2
                configuration.gemm = .tensorKit
                configuration.precision = .float32
            case .openBLAS:
                configuration.gemm = .openBLAS
            }
            configuration.minimumTensorKitGEMMWork = 0
            return KernelConfiguration.withCurrent(configuration) {
                kernel == .tensorKitAVX2 && !transposeA && !transposeB ? timedPacked(repetitions) : timed(repetitions)
            }
        }

        /// Seconds per call of the best of `repetitions` timings of `product` (after one
        /// warm-up), repeated so that one timing spans at least ~2 ms.
        private func best(_ repetitions: Int, _ product: () -> Void) -> Double {
            let calls = max(1, Int(2e-3 * 50e9 / flops))
            var best = Double.infinity
            for _ in 0..<(repetitions + 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<calls { product() }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(calls))
            }
            return best
        }

        /// GFLOP/s with A packed once, outside the timing (``BLAS/pack(_:m:k:a:lda:)`` for the
        /// current configuration's kernel).
        private func timedPacked(_ repetitions: Int) -> Double? {
            guard let packed = BLAS.pack(.none, m: m, k: k, a: a.pointer, lda: k) else { return nil }
            let bp = UnsafePointer(b.pointer)
            let n = self.n, split = splitOverWorkers
            let outputs = UncheckedSendable(c.map(\.pointer))
            let seconds = withExtendedLifetime((packed, b, c)) {
                best(repetitions) {
                    if split {
                        BLAS.gemm(packed, .none, n: n, b: bp, ldb: n, c: outputs.value[0], ldc: n, parallel: true)
                    } else {
                        Parallel.blocks(Parallel.workers, blocks: Parallel.workers) { t, _, _ in
                            BLAS.gemm(packed, .none, n: n, b: bp, ldb: n, c: outputs.value[t], ldc: n)
                        }
                    }
                }
            }
            return flops / seconds / 1e9
        }

        private func timed(_ repetitions: Int) -> Double {
            let ta: BLAS.Transpose = transposeA ? .transposed : .none, tb: BLAS.Transpose = transposeB ? .transposed : .none
            let lda = transposeA ? m : k, ldb = transposeB ? k : n
            let ap = UnsafePointer(a.pointer), bp = UnsafePointer(b.pointer)
            let (m, n, k) = (self.m, self.n, self.k)
            let outputs = UncheckedSendable(c.map(\.pointer))
            let split = splitOverWorkers
            let seconds = withExtendedLifetime((a, b, c)) {
                best(repetitions) {
                    if split {
                        BLAS.gemm(
                            ta, tb, m: m, n: n, k: k, a: ap, lda: lda, b: bp, ldb: ldb,
                            c: outputs.value[0], ldc: n, parallel: true)
                    } else {
                        Parallel.blocks(Parallel.workers, blocks: Parallel.workers) { t, _, _ in
                            BLAS.gemm(
                                ta, tb, m: m, n: n, k: k, a: ap, lda: lda, b: bp, ldb: ldb,
                                c: outputs.value[t], ldc: n)
                        }
                    }
                }
            }
            return flops / seconds / 1e9
        }
    }
}
