import ArgumentParser
import Foundation
@_spi(Benchmarks) import TensorKit

/// `audiocnn bench peak`: the machine's multiply-add rate, the limit the other figures are a
/// fraction of.
struct BenchPeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure the CPU's peak multiply-add rate (float32 FMA, bfloat16 dot products) on TensorKit's workers.",
        discussion: """
            Every worker runs twelve independent multiply-add chains from registers at once, with \
            the widest float32 FMA the CPU has (512-bit AVX-512 or 256-bit AVX2) and, with \
            AVX512_BF16, vdpbf16ps; the best of the timings is reported. This is the physical \
            limit at the clock the cores actually run, which a nominal-clock estimate misses.
            """
    )

    @Option(help: "Timings per instruction kind (the best is reported).") var repetitions = 5
    @Flag(help: "Print one JSON object on the last line.") var json = false

    func run() throws {
        guard repetitions > 0 else { throw ValidationError("--repetitions must be positive, got \(repetitions)") }
        let peak = KernelBenchmark.peakRate(repetitions: repetitions)
        let workers = Double(peak.threads)
        if let isa = peak.float32Instructions {
            print(
                String(
                    format: "float32 FMA (%@): %.1f GFLOP/s on %d workers (%.1f per worker)", isa, peak.float32,
                    peak.threads, peak.float32 / workers))
        } else {
            print("float32 FMA: no FMA loop for this CPU (TensorKit has AVX2 and AVX-512 ones)")
        }
        if let bf16 = peak.bfloat16 {
            print(String(format: "bfloat16 dot products (vdpbf16ps): %.1f GFLOP/s (%.1f per worker)", bf16, bf16 / workers))
        } else {
            print("bfloat16 dot products: this CPU has no AVX512_BF16")
        }
        if json {
            struct Summary: Codable {
                var fp32_gflops: Double
                var fp32_isa: String?
                var bf16_gflops: Double?
                var threads: Int
            }
            let data = try JSONEncoder().encode(
                Summary(
                    fp32_gflops: peak.float32, fp32_isa: peak.float32Instructions, bf16_gflops: peak.bfloat16,
                    threads: peak.threads))
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
