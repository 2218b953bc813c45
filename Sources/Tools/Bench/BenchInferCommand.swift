import ArgumentParser
import Foundation
import ResNetAudio
import TensorKit

/// `audiocnn bench infer`: evaluation-mode forward passes without autograd.
struct BenchInferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Inference latency (median) and throughput of the model.")
    @OptionGroup var options: ModelBenchOptions
    @Flag(help: "Also profile one more forward pass by operation.")
    var profile = false
    @Flag(help: "Run the unfolded layers (batch norm as its own pass) instead of the folded inference path.")
    var unfolded = false
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        try precision.apply { try bench() }
    }

    private func bench() throws {
        let model = try options.makeModel()
        model.eval()
        model.usesFoldedInference = !unfolded
        let x = options.makeInput()
        var times: [Double] = []
        withNoGrad {
            _ = model(x)
            for _ in 0..<options.iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = model(x)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            if profile {
                OpProfiler.start()
                let start = DispatchTime.now().uptimeNanoseconds
                _ = model(x)
                let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                let entries = OpProfiler.stop()
                print("profile of one forward pass (\(String(format: "%.1f", total)) ms):")
                print("  op" + String(repeating: " ", count: 44) + "calls  forward ms   share")
                for e in entries {
                    print(
                        "  " + e.op.padding(toLength: 44, withPad: " ", startingAt: 0)
                            + String(format: "%7d %11.2f %6.1f%%", e.calls, e.forwardMilliseconds, e.forwardMilliseconds / total * 100))
                }
            }
        }
        times.sort()
        let median = times[times.count / 2]
        printResult(
            [
                ("clips_per_s", Double(options.batch) / median), ("latency_ms", median * 1e3),
                ("peak_rss_mb", peakRSSMiB()),
            ],
            labels: kernelLabels(), json: options.json)
    }
}
