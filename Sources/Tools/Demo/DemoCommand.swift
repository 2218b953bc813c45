import ArgumentParser
import ESC50
import Foundation
import ResNetAudio
import Training

/// `audiocnn demo`: the whole pipeline in a few minutes, on synthetic sounds unless given data.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a small AudioCNN end to end in a few minutes (on a synthetic data set unless --data is given).",
        discussion: """
            Without --data it writes a small SYNTHETIC data set in the ESC-50 layout (tones, chirps, \
            noise bursts, click trains, AM and FM tones; 5 s WAV at 44.1 kHz), trains the small model \
            with the full recipe, writes TensorBoard logs and checkpoints under --out, reports the \
            validation accuracy and a prediction for one clip.
            """)

    @Option(help: "A data set in the ESC-50 layout (e.g. ESC-50 itself) instead of the synthetic one.")
    var data: String?
    @Option(help: "Training epochs (default 20, or 4 with --quick).")
    var epochs: Int?
    @Option(help: "Folder for the data set, logs and checkpoints.")
    var out: String = "demo-output"
    @Flag(help: "The smallest settings (fewer clips and epochs), for CI.")
    var quick = false
    @Option(help: "Seed of the data set and the run.")
    var seed: UInt64 = 0

    func run() async throws {
        let started = Date()
        let root = URL(fileURLWithPath: out)
        let runID = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let dataURL: URL
        var validationFold = 5
        if let data {
            dataURL = URL(fileURLWithPath: data)
            validationFold = try SoundDataset(directory: dataURL, layout: .esc50).folds.last ?? 5
            say("Using the data set in \(dataURL.path); validating on fold \(validationFold).")
        } else {
            // One folder per generator setting, so a --quick run never reuses a full-size set (or back).
            dataURL = root.appendingPathComponent("synthetic-data-\(quick ? "quick" : "full")-seed\(seed)")
            var synthetic = SyntheticDataset()
            synthetic.seed = seed
            synthetic.clipsPerClassPerFold = quick ? 2 : 4
            if !FileManager.default.fileExists(atPath: dataURL.appendingPathComponent("meta/esc50.csv").path) {
                say(
                    "Writing a SYNTHETIC data set (\(SyntheticDataset.classes.count) classes: \(SyntheticDataset.classes.joined(separator: ", "))) to \(dataURL.path) ..."
                )
                try synthetic.write(to: dataURL)
            }
            say("NOTE: these sounds are synthetic; the accuracy below shows the pipeline learns, not how it does on real sounds.")
        }
        let trainingData = try TrainingData.esc50(directory: dataURL, validationFold: validationFold)
        var recipe = try RecipeOptions.parse([])
        recipe.model = .small
        recipe.epochs = epochs ?? (quick ? 4 : 20)
        recipe.batch = 16
        recipe.seed = seed
        let checkpoints = root.appendingPathComponent("checkpoints/\(runID)")
        let logdir = root.appendingPathComponent("runs/\(runID)")
        let summary = try TrainCommand.train(data: trainingData, recipe: recipe, out: checkpoints, logdir: logdir, resume: false)

        let chance = 1.0 / Double(trainingData.classes.count)
        let final = summary.history.last?.validationAccuracy ?? 0
        say(
            String(
                format: "\nValidation accuracy: %.1f%% after %d epochs (best %.1f%%, chance %.1f%%).",
                final * 100, summary.history.count, summary.bestAccuracy * 100, chance * 100))
        say(summary.lastConfusion.text)

        let (model, metadata) = try Checkpoint.load(from: summary.bestCheckpoint)
        let clip = trainingData.validation[0]
        let probabilities = try Self.predict(model: model, item: clip, features: trainingData.features)
        let ranked = probabilities.enumerated().sorted { $0.element > $1.element }.prefix(3)
        say("\nPrediction for \(clip.url.lastPathComponent) (truly \(metadata.classes[clip.label])):")
        for (index, p) in ranked {
            let name = metadata.classes[index]
            say("  " + name.padding(toLength: max(14, name.count), withPad: " ", startingAt: 0) + String(format: " %5.1f%%", p * 100))
        }

        say(
            """

            Checkpoint:  \(summary.bestCheckpoint.path)
            Curves:      tensorboard --logdir \(root.appendingPathComponent("runs").path)
            Evaluate:    .build/release/audiocnn evaluate --checkpoint \(summary.bestCheckpoint.path) --data \(dataURL.path) --fold \(validationFold)
            Serve:       .build/release/audiocnn serve --checkpoint \(summary.bestCheckpoint.path)
            """)
        say(
            String(format: "Demo finished in %.0f s", Date().timeIntervalSince(started))
                + (data == nil ? " (synthetic data)." : "."))
    }

    /// Softmax probabilities of `model` for one clip.
    static func predict(model: AudioCNN, item: LoaderItem, features: any FeatureSource) throws -> [Double] {
        let values = try features.features(of: item)
        let shape = features.shape
        model.eval()
        let input = try Tensor(shape: [1, 1, shape.mels, shape.frames], scalars: values)
        return withNoGrad { model(input).softmax() }.scalars.map { Double($0) }
    }
}

import TensorKit

/// Writes a line to standard output unbuffered, so it stays in order with the progress lines
/// on standard error when both go to one log.
private func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
