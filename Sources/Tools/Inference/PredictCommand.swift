import AudioClassification
import ArgumentParser
import Foundation
import InferenceServer

/// `audiocnn predict FILE... --checkpoint C [--top 3] [--json]`.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify audio files with a checkpoint and print the top classes.",
        discussion: """
            Runs AudioClassification's AudioClassifier, exactly what `audiocnn serve` runs for POST /: decode (any format libsndfile reads), \
            down-mix, resample to the checkpoint's Mel rate, log-Mel, forward pass, softmax. With \
            --json, prints one JSON object per file: {"file", "predictions": [{"class", "confidence"}]}, \
            or {"file", "error", "detail"} for a file that could not be classified. Exits with status 1 \
            if any file failed.
            """
    )

    @Argument(help: "Audio files to classify.")
    var files: [String]

    @Option(help: "The model checkpoint (.safetensors, see Docs/Checkpoints.md).")
    var checkpoint: String

    @Option(help: "How many classes to print per file.")
    var top: Int = 3

    @Option(help: "Refuse clips longer than this, in seconds.")
    var maxSeconds: Double = 600

    @Flag(help: "Print one JSON object per line.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive, got \(maxSeconds)") }
    }

    func run() async throws {
        let classifier = try AudioClassifier(checkpoint: URL(fileURLWithPath: checkpoint), maximumDuration: maxSeconds)
        let k = min(top, classifier.classes.count)
        var failures = 0
        for file in files {
            switch Result(catching: { () throws(InferenceError) in try classifier.predict(contentsOf: URL(fileURLWithPath: file), top: k) })
            {
            case .success(let predictions):
                if json {
                    print(predictionJSONLine(file: file, predictions: predictions))
                } else {
                    print(file)
                    let width = predictions.map(\.className.count).max() ?? 0
                    for (i, p) in predictions.enumerated() {
                        let name = p.className.padding(toLength: width, withPad: " ", startingAt: 0)
                        print("  \(i + 1). \(name)  \(String(format: "%5.1f%%", Double(p.confidence) * 100))")
                    }
                }
            case .failure(let error):
                failures += 1
                if json {
                    print(predictionErrorJSONLine(file: file, error: error))
                } else {
                    let text = "\(error)"
                    FileHandle.standardError.write(Data("\(text.contains(file) ? text : "\(file): \(text)")\n".utf8))
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
