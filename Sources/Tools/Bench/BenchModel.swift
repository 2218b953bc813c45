import ArgumentParser
import Foundation
import ResNetAudio
import TensorKit

/// Options shared by `bench train` and `bench infer`.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Clips per batch.") var batch: Int = 16
    @Option(help: "Timed iterations (after one warm-up).") var iterations: Int = 5
    @Option(help: "Mel bins of the synthetic input.") var mels: Int = 128
    @Option(help: "Frames of the synthetic input (431 = 5 s at 44.1 kHz, hop 512).") var frames: Int = 431
    @Option(help: "Model: resnet34 or small.") var model: String = "resnet34"
    @Flag(help: "Print one JSON object on the last line.") var json = false

    func validate() throws {
        guard batch > 0, iterations > 0, mels > 0, frames > 0 else {
            throw ValidationError("--batch, --iterations, --mels and --frames must be positive")
        }
        guard ["resnet34", "small"].contains(model) else { throw ValidationError("--model must be resnet34 or small, not \(model)") }
    }

    func makeModel() throws -> ResNetAudio.AudioCNN {
        try ResNetAudio.AudioCNN(config: model == "small" ? .small(classes: 50) : .resnet34(classes: 50), seed: 0)
    }

    func makeInput() -> Tensor {
        var g = RandomGenerator(seed: 1)
        var x = Tensor(zeros: [batch, 1, mels, frames])
        x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = g.nextNormal() } }
        return x
    }
}

/// Peak resident set size of this process, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func printResult(_ fields: [(String, Double)], json: Bool) {
    let text = fields.map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", ")
    print(text)
    if json {
        let body = fields.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ")
        print("{\(body)}")
    }
}

extension Bench {
    /// `audiocnn bench train`: forward, label-smoothed cross-entropy, backward and AdamW step.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Training throughput of the model (forward + loss + backward + AdamW), clips/s.")
        @OptionGroup var options: ModelBenchOptions
        @Flag(help: "Also profile one more step by operation (forward and backward time per op, and the optimiser).")
        var profile = false

        func run() throws {
            let model = try options.makeModel()
            model.train()
            let x = options.makeInput()
            let labels = (0..<options.batch).map { $0 % 50 }
            let optimizer = try AdamW(model.parameters(), learningRate: 5e-4, weightDecay: 0.01)
            func step() throws {
                optimizer.zeroGrad()
                let loss = crossEntropy(model(x), labels: labels, labelSmoothing: 0.1)
                loss.backward()
                try optimizer.step()
            }
            try step()  // warm-up: workspaces, OpenBLAS threads
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<options.iterations { try step() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(options.iterations)
            if profile { try profileStep(model: model, input: x, labels: labels, optimizer: optimizer) }
            printResult([("clips_per_s", Double(options.batch) / seconds), ("step_ms", seconds * 1e3),
                         ("peak_rss_mb", peakRSSMiB()), ("peak_tensor_mb", Double(TensorMemory.peakLiveBytes) / 1_048_576),
                         ("idle_cache_mb", Double(TensorMemory.cachedBytes) / 1_048_576)], json: options.json)
        }

        /// One step under ``OpProfiler``: where the time of a training step goes.
        private func profileStep(model: ResNetAudio.AudioCNN, input: Tensor, labels: [Int], optimizer: AdamW) throws {
            optimizer.zeroGrad()
            OpProfiler.start()
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = crossEntropy(model(input), labels: labels, labelSmoothing: 0.1)
            loss.backward()
            OpProfiler.mark()
            let beforeStep = DispatchTime.now().uptimeNanoseconds
            try optimizer.step()
            let end = DispatchTime.now().uptimeNanoseconds
            let entries = OpProfiler.stop()
            let total = Double(end - start) / 1e6
            let optimiser = Double(end - beforeStep) / 1e6
            print("profile of one step (\(String(format: "%.0f", total)) ms):")
            print("  op                          calls  forward ms  backward ms   share")
            for e in entries {
                let share = (e.forwardMilliseconds + e.backwardMilliseconds) / total * 100
                print("  " + e.op.padding(toLength: 26, withPad: " ", startingAt: 0)
                      + String(format: "%7d %11.1f %12.1f %6.1f%%", e.calls, e.forwardMilliseconds, e.backwardMilliseconds, share))
            }
            print("  " + "AdamW step".padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: "%7d %11.1f %12s %6.1f%%", 1, optimiser, "", optimiser / total * 100))
        }
    }

    /// `audiocnn bench infer`: evaluation-mode forward passes without autograd.
    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inference latency (median) and throughput of the model.")
        @OptionGroup var options: ModelBenchOptions
        @Flag(help: "Also profile one more forward pass by operation.")
        var profile = false
        @Flag(help: "Run the unfolded layers (batch norm as its own pass) instead of the folded inference path.")
        var unfolded = false

        func run() throws {
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
                        print("  " + e.op.padding(toLength: 44, withPad: " ", startingAt: 0)
                              + String(format: "%7d %11.2f %6.1f%%", e.calls, e.forwardMilliseconds, e.forwardMilliseconds / total * 100))
                    }
                }
            }
            times.sort()
            let median = times[times.count / 2]
            printResult([("clips_per_s", Double(options.batch) / median), ("latency_ms", median * 1e3),
                         ("peak_rss_mb", peakRSSMiB())], json: options.json)
        }
    }
}
