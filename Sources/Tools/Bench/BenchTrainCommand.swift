import ArgumentParser
import DataParallel
import Foundation
import ResNetAudio
import TensorKit

/// `audiocnn bench train`: forward, label-smoothed cross-entropy, backward and AdamW step.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput of the model (forward + loss + backward + AdamW), clips/s.",
        discussion: """
            Under mpirun (mpirun -np N audiocnn bench train --batch B), --batch is the global batch: \
            each rank computes its part and the gradients are summed during backward (bucketed \
            allreduce); rank 0 prints the global clips/s and the allreduce time per step \
            (allreduce_ms on the wire, exposed_allreduce_ms not hidden by backward, overlap).
            """)
    @OptionGroup var options: ModelBenchOptions
    @Flag(help: "Also profile one more step by operation (forward and backward time per op, and the optimiser).")
    var profile = false

    @OptionGroup var parallel: DataParallelOptions
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        let group = try parallel.group()
        try precision.apply { try DataParallelOptions.run(in: group) { try bench(group: group) } }
    }

    private func bench(group: MPIProcessGroup?) throws {
        let model = try options.makeModel()
        model.train()
        let ranks = group?.size ?? 1, rank = group?.rank ?? 0
        guard options.batch >= ranks else {
            throw ValidationError("--batch \(options.batch) cannot be split across \(ranks) ranks")
        }
        // This rank's part of the global batch, as the training loader cuts it.
        let local = (rank + 1) * options.batch / ranks - rank * options.batch / ranks
        var partOptions = options
        partOptions.batch = local
        let x = partOptions.makeInput()
        let labels = (0..<local).map { $0 % 50 }
        let optimizer = try AdamW(model.parameters(), learningRate: 5e-4, weightDecay: 0.01)
        let buckets = try group.map { group in
            try group.broadcastState(of: model)
            group.synchronizeBatchNorm(in: model, parallel.syncBatchNorm)
            return GradientBuckets(parameters: model.parameters(), group: group, bucketBytes: Int(parallel.bucketMB * 1_048_576))
        }
        func step() throws {
            optimizer.zeroGrad()
            let loss = crossEntropy(model(x), labels: labels, labelSmoothing: 0.1)
            if let buckets {
                let share = Float(local) / Float(options.batch)
                loss.backward(gradient: Tensor(repeating: share, shape: loss.shape), onGradientReady: buckets.gradientReady)
                try buckets.synchronize()
            } else {
                loss.backward()
            }
            try optimizer.step()
        }
        try step()  // warm-up: workspaces, OpenBLAS threads
        try group?.barrier()
        let before = buckets?.statistics ?? GradientBuckets.Statistics()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<options.iterations { try step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(options.iterations)
        if profile { try profileStep(model: model, input: x, labels: labels, optimizer: optimizer) }
        guard rank == 0 else { return }
        var fields: [(String, Double)] = [
            ("clips_per_s", Double(options.batch) / seconds), ("step_ms", seconds * 1e3),
            ("peak_rss_mb", peakRSSMiB()), ("peak_tensor_mb", Double(TensorMemory.peakLiveBytes) / 1_048_576),
            ("idle_cache_mb", Double(TensorMemory.cachedBytes) / 1_048_576),
        ]
        if let after = buckets?.statistics {
            let steps = Double(options.iterations)
            let wire = after.communicationSeconds - before.communicationSeconds
            let exposed = after.exposedSeconds - before.exposedSeconds
            fields += [
                ("ranks", Double(ranks)), ("allreduce_mb", Double(after.bytes - before.bytes) / steps / 1e6),
                ("allreduce_ms", wire / steps * 1e3), ("exposed_allreduce_ms", exposed / steps * 1e3),
                ("overlap", wire > 0 ? max(0, 1 - exposed / wire) : 0),
            ]
        }
        // The forward pass's Winograd tiles (4x4: faster, less precise; by default at fp32 with the
        // AVX-512 or AVX2 kernels and at bf16 with AVX-512, unless `TENSORKIT_WINOGRAD_FORWARD_4X4=0`).
        let forward = KernelConfiguration.current.appliesLargeTilesForward ? "4x4" : "2x2"
        printResult(fields, labels: kernelLabels() + [("winograd_forward", forward)], json: options.json)
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
