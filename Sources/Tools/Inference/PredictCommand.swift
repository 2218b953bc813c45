import AudioClassification
import ArgumentParser
import Foundation
import InferenceServer

extension EventTableFormat: ExpressibleByArgument {}

/// `audiocnn predict FILE... --checkpoint C [--top 3] [--json]`, and with `--window` the
/// sliding-window scan of long recordings.
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

            With --window S (and --hop, default half the window) each file is scanned in windows, \
            streamed so memory does not grow with its length: one row per window and class among \
            the --top (default 1) with at least --min-confidence, or with --merge one row per run of \
            consecutive windows. Rows start with start,end,class,confidence (seconds), then the file \
            (--format csv, jsonl or raven). --timeline PNG draws each class's confidence over time. \
            A directory needs --recursive, which classifies every audio file below it.
            """
    )

    @Argument(help: "Audio files to classify (folders with --recursive).")
    var files: [String]

    @Option(help: "The model checkpoint (.safetensors, see Docs/Checkpoints.md).")
    var checkpoint: String

    @Option(help: "How many classes to print per file (default 3), or per window with --window (default 1).")
    var top: Int?

    @Option(help: "Refuse clips longer than this, in seconds.")
    var maxSeconds: Double = 600

    @Flag(help: "Print one JSON object per line (with --window: the same as --format jsonl).")
    var json = false

    @Flag(help: "Classify every audio file in the folders given, and in their sub-folders.")
    var recursive = false

    @OptionGroup var scan: ScanCommandOptions

    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
        if let top { guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") } }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive, got \(maxSeconds)") }
        try scan.validate()
    }

    func run() async throws {
        let classifier = try AudioClassifier(
            checkpoint: URL(fileURLWithPath: checkpoint), maximumDuration: maxSeconds, precision: precision.resolved)
        let (inputs, missing) = InputFiles.expand(files, recursive: recursive)
        var failures = missing
        if scan.window != nil {
            failures += try scan.run(classifier: classifier, files: inputs, top: min(top ?? 1, classifier.classes.count), json: json)
            if failures > 0 { throw ExitCode(1) }
            return
        }
        let k = min(top ?? 3, classifier.classes.count)
        for file in inputs {
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
                    var text = "\(error)"
                    if case .audioTooLong = error { text += " by --max-seconds; pass --window 5 to scan a long recording in windows" }
                    FileHandle.standardError.write(Data("\(text.contains(file) ? text : "\(file): \(text)")\n".utf8))
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
