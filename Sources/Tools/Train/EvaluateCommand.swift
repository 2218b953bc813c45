import ArgumentParser
import AudioDSP
import ESC50
import Foundation
import ResNetAudio
import Training

/// `audiocnn evaluate`: accuracy, per-class accuracy and confusion matrix of a checkpoint.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract:
            "Evaluate a checkpoint on a data set (ESC-50 or UrbanSound8K layout, or class folders): accuracy, per-class accuracy, confusion matrix.",
        discussion:
            "Rows with errors (bad fields, missing files) are listed and left out; a clip that does not decode stops the evaluation with its name."
    )

    @Option(help: "The checkpoint (.safetensors) to evaluate.")
    var checkpoint: String
    @OptionGroup var source: DatasetOptions
    @Option(name: .customLong("folds"), help: "Same as --split-folds.")
    var folds: Int?
    @Option(help: "Evaluate only this fold (default: every clip of the checkpoint's classes).")
    var fold: Int?
    @Option(help: "Write the confusion matrix as a PNG here (default: confusion.png beside the checkpoint).")
    var png: String?
    @Option(help: "Clips per forward pass.")
    var batch: Int = 32
    @OptionGroup var precision: PrecisionOption

    func run() async throws {
        let url = URL(fileURLWithPath: checkpoint)
        let (model, metadata) = try Checkpoint.load(from: url)
        let dataset = try source.read(folds: folds)
        let report = try precision.apply {
            try Self.evaluate(model: model, metadata: metadata, dataset: dataset, fold: fold, batch: batch)
        }
        print(report.text)
        let pngURL =
            png.map { URL(fileURLWithPath: $0) }
            ?? url.deletingLastPathComponent().appendingPathComponent("confusion.png")
        let image = try report.result.confusion.image()
        do {
            try Data(image.pngData()).write(to: pngURL, options: .atomic)
        } catch {
            throw ValidationError("cannot write \(pngURL.path): \(error.localizedDescription)")
        }
        print("confusion matrix image: \(pngURL.path)")
    }

    struct Report {
        var result: EvaluationResult
        var skipped: Int
        var text: String
    }

    /// Evaluates `model` on the clips of `data` (one fold or all) whose class it knows.
    static func evaluate(model: AudioCNN, metadata: CheckpointMetadata, dataset: SoundDataset, fold: Int?, batch: Int) throws -> Report {
        let mel: MelConfig
        if let json = metadata.melConfigJSON {
            mel = try JSONDecoder().decode(MelConfig.self, from: Data(json.utf8))
        } else {
            mel = MelConfig()
        }
        for problem in dataset.problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
        let clips = try fold.map { try dataset.clips(inFolds: [$0]) } ?? dataset.clips
        var items: [LoaderItem] = []
        var skipped = 0
        for clip in clips {
            guard let label = metadata.classes.firstIndex(of: clip.category) else { skipped += 1; continue }
            items.append(
                LoaderItem(
                    url: dataset.audioURL(for: clip), label: label, origin: dataset.origin(of: clip)))
        }
        guard !items.isEmpty else {
            throw ValidationError(
                "no clip of \(dataset.root.path)\(fold.map { " fold \($0)" } ?? "") belongs to the checkpoint's classes (\(metadata.classes.joined(separator: ", ")))"
            )
        }
        let source = try TrainingData.featureSource(melConfig: mel, cacheDirectory: nil)
        let loader = try DataLoader(items: items, source: source, configuration: .init(batchSize: batch, workers: 2))
        let result = try Evaluator.evaluate(model, on: loader, classes: metadata.classes)
        var lines = [
            String(format: "accuracy %.2f%% (%d of %d clips)", result.accuracy * 100, result.confusion.correct, result.confusion.total)
        ]
        if skipped > 0 { lines.append("skipped \(skipped) clips of classes the checkpoint does not predict") }
        lines.append("")
        lines.append(result.confusion.text)
        return Report(result: result, skipped: skipped, text: lines.joined(separator: "\n"))
    }
}
