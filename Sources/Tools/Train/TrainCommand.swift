import ArgumentParser
import DataParallel
import ESC50
import Foundation
import Training

/// `audiocnn train`: the reference recipe on a data set in the ESC-50 layout.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an AudioCNN on a data set (ESC-50 or UrbanSound8K layout, or class folders) with the reference recipe.",
        discussion: """
            AdamW + OneCycleLR (stepped per batch over the whole run), label smoothing, SpecAugment and \
            MixUp. Writes best.safetensors, last.safetensors and last.train-state.safetensors to --out \
            and TensorBoard logs to --logdir. --resume continues an interrupted run exactly. Every clip \
            is decoded first: a data set with errors (as `audiocnn dataset --verify` lists them) is \
            refused, or with --skip-invalid trained on without the clips at fault, which are printed \
            and listed in --out/skipped-clips.txt.

            Started by mpirun (mpirun -np N audiocnn train ...), the N processes train one model \
            data-parallel: each --batch is split across them and their gradients are summed; only \
            rank 0 writes files and progress (see Docs/Distributed.md).
            """)

    @OptionGroup var source: DatasetOptions
    @Option(name: .customLong("folds"), help: "Same as --split-folds.")
    var folds: Int?
    @Flag(
        name: .customLong("skip-invalid"), help: "Train on the clips without errors, listing the others, instead of refusing the data set.")
    var skipInvalid = false
    @Option(name: .customLong("val-fold"), help: "The fold held out for validation.")
    var valFold: Int = 5
    @OptionGroup var recipe: RecipeOptions
    @Flag(help: "Use only the ESC-10 subset (10 classes).")
    var esc10 = false
    @Option(help: "TensorBoard log folder.")
    var logdir: String = "runs/audiocnn"
    @Option(help: "Checkpoint folder.")
    var out: String = "checkpoints/audiocnn"
    @Flag(help: "Continue the run in --out from last.safetensors.")
    var resume = false
    @Option(help: "Cache log-Mel spectrograms in this folder (default: in memory for the run).")
    var cache: String?
    @Option(name: .customLong("stop-after"), help: "Stop after this many epochs of the schedule (resume later with --resume).")
    var stopAfter: Int?
    @OptionGroup var parallel: DataParallelOptions
    @OptionGroup var precision: PrecisionOption
    @Option(
        help:
            "Record the inputs, dropout masks and learning rate of each step here, for a paired replay in PyTorch (Benchmarks/paired_replay.py)."
    )
    var trace: String?
    @Option(name: .customLong("trace-steps"), help: "Steps recorded by --trace, from the first.")
    var traceSteps: Int = 160
    @Option(name: .customLong("trace-weights"), help: "Comma-separated steps after which --trace writes the weights (0: the initial ones).")
    var traceWeights: String = "0,1,10,50,150"

    func run() async throws {
        let group = try parallel.group()
        try precision.apply { try DataParallelOptions.run(in: group) { try trainAsRank(of: group) } }
    }

    private func trainAsRank(of group: MPIProcessGroup?) throws {
        var dataset = try source.read(folds: folds)
        if esc10 { dataset = try dataset.esc10Subset() }
        let report = DatasetOptions.verifyForTraining(dataset, validationFold: valFold, skipInvalid: skipInvalid)
        let data = try TrainingData.split(
            of: dataset, validationFold: valFold, report: report, skipInvalid: skipInvalid,
            cacheDirectory: cache.map { URL(fileURLWithPath: $0) })
        let summary = try Self.train(
            data: data, recipe: recipe, out: URL(fileURLWithPath: out),
            logdir: URL(fileURLWithPath: logdir), resume: resume, stopAfter: stopAfter,
            dataParallel: parallel.training(group), trace: try traceOptions())
        guard (group?.rank ?? 0) == 0 else { return }
        print(
            String(format: "best validation accuracy %.2f%%", summary.bestAccuracy * 100)
                + " at epoch \(summary.bestEpoch); checkpoints: \(summary.bestCheckpoint.path) and \(summary.lastCheckpoint.path)")
    }

    private func traceOptions() throws -> TrainingTrace? {
        guard let trace else { return nil }
        let steps = traceWeights.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard traceSteps > 0, steps.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--trace-steps must be positive and --trace-weights a list of steps >= 0")
        }
        return TrainingTrace(directory: URL(fileURLWithPath: trace), steps: traceSteps, weightSteps: Set(steps.map { $0! }))
    }

    /// Trains with progress on standard error; shared with `cross-validate` and `demo`.
    static func train(
        data: TrainingData, recipe: RecipeOptions, out: URL, logdir: URL?, resume: Bool,
        stopAfter: Int? = nil, prefix: String = "", dataParallel: DataParallelTraining? = nil, trace: TrainingTrace? = nil
    ) throws -> TrainingSummary {
        // Under a file-size limit (`ulimit -f`) SIGXFSZ's default action kills the process
        // mid-write; ignored, the write fails with EFBIG and the trainer reports which file could
        // not be written, with the previous checkpoints intact. (Today the writes happen on a
        // Dispatch worker thread, which blocks the signal anyway; this does not rely on that.)
        signal(SIGXFSZ, SIG_IGN)
        let model = recipe.modelConfig(classes: data.classes.count)
        let trainer = try Trainer(
            configuration: recipe.configuration, model: model, data: data,
            outputDirectory: out, logDirectory: logdir)
        trainer.dataParallel = dataParallel
        trainer.trace = trace
        let progress = TrainingProgressView(prefix: prefix)
        trainer.onBatch = { progress.batch($0) }
        trainer.onEpoch = { progress.epoch($0, isBest: $1, epochs: recipe.epochs) }
        trainer.onWarning = { FileHandle.standardError.write(Data("\(prefix)warning: \($0)\n".utf8)) }
        if let group = dataParallel?.group, group.rank != 0 { return try trainer.run(resume: resume, stopAfterEpoch: stopAfter) }
        let ranks =
            dataParallel.map {
                ", data-parallel over \($0.group.size) processes" + ($0.synchronizeBatchNorm ? " (synchronised batch norm)" : "")
            } ?? ""
        FileHandle.standardError.write(
            Data(
                "\(prefix)training \(recipe.model.rawValue) on \(data.train.count) clips, validating on \(data.validation.count), \(data.classes.count) classes\(ranks)\n"
                    .utf8))
        let summary = try trainer.run(resume: resume, stopAfterEpoch: stopAfter)
        if dataParallel != nil {
            let c = trainer.communication
            FileHandle.standardError.write(
                Data(
                    String(
                        format:
                            "%@allreduce: %d steps, %.1f MB per step, %.1f ms per step on the wire, %.1f ms of it not hidden by backward (overlap %.0f%%)\n",
                        prefix, c.steps, Double(c.bytes) / Double(max(c.steps, 1)) / 1e6,
                        c.communicationSeconds / Double(max(c.steps, 1)) * 1e3, c.exposedSeconds / Double(max(c.steps, 1)) * 1e3,
                        c.overlap * 100
                    ).utf8))
        }
        return summary
    }
}
