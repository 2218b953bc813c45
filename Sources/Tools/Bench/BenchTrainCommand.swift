import ArgumentParser
import Foundation
import ResNetAudio
import TensorKit

/// `audiocnn bench train`: forward, label-smoothed cross-entropy, backward and AdamW step.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
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
        printResult(
            [
                ("clips_per_s", Double(options.batch) / seconds), ("step_ms", seconds * 1e3),
                ("peak_rss_mb", peakRSSMiB()), ("peak_tensor_mb", Double(TensorMemory.peakLiveBytes) / 1_048_576),
                ("idle_cache_mb", Double(TensorMemory.cachedBytes) / 1_048_576),
            ],
            labels: kernelLabels(), json: options.json)
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
            print(
                "  " + e.op.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(format: "%7d %11.1f %12.1f %6.1f%%", e.calls, e.forwardMilliseconds, e.backwardMilliseconds, share))
        }
        print(
            "  " + "AdamW step".padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%7d %11.1f %12s %6.1f%%", 1, optimiser, "", optimiser / total * 100))
    }
}
