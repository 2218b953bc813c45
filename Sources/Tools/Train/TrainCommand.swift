import ArgumentParser
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

    func run() async throws {
        var dataset = try source.read(folds: folds)
        if esc10 { dataset = try dataset.esc10Subset() }
        let report = DatasetOptions.verifyForTraining(dataset, validationFold: valFold, skipInvalid: skipInvalid)
        let data = try TrainingData.split(
            of: dataset, validationFold: valFold, report: report, skipInvalid: skipInvalid,
            cacheDirectory: cache.map { URL(fileURLWithPath: $0) })
        let summary = try Self.train(
            data: data, recipe: recipe, out: URL(fileURLWithPath: out),
            logdir: URL(fileURLWithPath: logdir), resume: resume, stopAfter: stopAfter)
        print(
            String(format: "best validation accuracy %.2f%%", summary.bestAccuracy * 100)
                + " at epoch \(summary.bestEpoch); checkpoints: \(summary.bestCheckpoint.path) and \(summary.lastCheckpoint.path)")
    }

    /// Trains with progress on standard error; shared with `cross-validate` and `demo`.
    static func train(
        data: TrainingData, recipe: RecipeOptions, out: URL, logdir: URL?, resume: Bool,
        stopAfter: Int? = nil, prefix: String = ""
    ) throws -> TrainingSummary {
        // Under a file-size limit (`ulimit -f`) SIGXFSZ's default action kills the process
        // mid-write; ignored, the write fails with EFBIG and the trainer reports which file could
        // not be written, with the previous checkpoints intact. (Today the writes happen on a
        // Dispatch worker thread, which blocks the signal anyway; this does not rely on that.)
        signal(SIGXFSZ, SIG_IGN)
        let model = recipe.model.config(classes: data.classes.count)
        let trainer = try Trainer(
            configuration: recipe.configuration, model: model, data: data,
            outputDirectory: out, logDirectory: logdir)
        let progress = TrainingProgressView(prefix: prefix)
        trainer.onBatch = { progress.batch($0) }
        trainer.onEpoch = { progress.epoch($0, isBest: $1, epochs: recipe.epochs) }
        FileHandle.standardError.write(
            Data(
                "\(prefix)training \(recipe.model.rawValue) on \(data.train.count) clips, validating on \(data.validation.count), \(data.classes.count) classes\n"
                    .utf8))
        return try trainer.run(resume: resume, stopAfterEpoch: stopAfter)
    }
}
