import ArgumentParser
import AudioClassification
import Foundation
import TBLogger

/// The sliding-window options of `audiocnn predict` and what it does with them.
struct ScanCommandOptions: ParsableArguments {
    @Option(help: "Scan each file in windows of this many seconds (streamed; any length) instead of classifying it whole.")
    var window: Double?
    @Option(help: "Seconds between window starts (default: half the window).")
    var hop: Double?
    @Option(help: "Windows per forward pass.")
    var batch: Int = 16
    @Option(help: "Row format with --window: csv, jsonl or raven (a Raven selection table).")
    var format: EventTableFormat = .csv
    @Option(name: .customLong("min-confidence"), help: "With --window, print only classes at least this probable.")
    var minConfidence: Float = 0
    @Flag(help: "With --window, merge consecutive windows of one class into one event row.")
    var merge = false
    @Option(help: "With --window, draw each top class's confidence over time into this PNG (one per file when several).")
    var timeline: String?

    func validate() throws {
        guard let window else {
            if hop != nil || timeline != nil || merge || format != .csv || minConfidence != 0 || batch != 16 {
                throw ValidationError("--hop, --batch, --format, --min-confidence, --merge and --timeline need --window")
            }
            return
        }
        guard window.isFinite, window > 0 else { throw ValidationError("--window must be a positive number of seconds, got \(window)") }
        if let hop { guard hop.isFinite, hop > 0 else { throw ValidationError("--hop must be a positive number of seconds, got \(hop)") } }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard (0...1).contains(minConfidence) else { throw ValidationError("--min-confidence must be in 0...1, got \(minConfidence)") }
    }

    /// Scans `files`, printing rows as each finishes; returns how many failed.
    func run(classifier: AudioClassifier, files: [String], top: Int, json: Bool) throws -> Int {
        let window = self.window!
        let options = ScanOptions(window: window, hop: hop ?? window / 2, batchSize: batch)
        let format = json ? .jsonl : format
        if let header = format.header { print(header) }
        var failures = 0, selection = 0
        for file in files {
            let status = StatusLine(interval: 0.5)
            let scanned = Result(catching: { () throws(InferenceError) in
                try classifier.scan(contentsOf: URL(fileURLWithPath: file), options: options) { seconds, total in
                    status.show(
                        "scanning \(file): \(Clock.text(seconds))"
                            + (total.map { $0 > 0 ? " of \(Clock.text($0)) (\(Int(100 * seconds / $0))%)" : "" } ?? ""))
                }
            })
            status.clear()
            switch scanned {
            case .success(let result):
                for event in result.events(top: top, minimumConfidence: minConfidence, merge: merge) {
                    selection += 1
                    print(format.row(event, file: file, selection: selection, nyquist: Double(classifier.melConfig.sampleRate) / 2))
                }
                if let timeline {
                    let url = Self.timelineURL(timeline, index: files.firstIndex(of: file)! + 1, file: file, of: files.count)
                    try TimelineImage.write(result, to: url)
                }
            case .failure(let error):
                failures += 1
                let text = "\(error)"
                FileHandle.standardError.write(Data("\(text.contains(file) ? text : "\(file): \(text)")\n".utf8))
            }
        }
        return failures
    }

    /// `out.png` for one file; `out-<n>-<file name>.png` for the n-th of several (numbered, as
    /// two folders may hold files of one name).
    static func timelineURL(_ path: String, index: Int, file: String, of count: Int) -> URL {
        let url = URL(fileURLWithPath: path)
        guard count > 1 else { return url }
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let base = url.deletingPathExtension()
        return base.deletingLastPathComponent().appendingPathComponent("\(base.lastPathComponent)-\(index)-\(stem).png")
    }
}

/// `12:34 of 1:00:00 (20%)`-style times for the scan progress line.
enum Clock {
    static func text(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// A heat map of class confidence over time: one row per class (the most confident classes of the
/// recording, most confident on top), one column band per window, darker = more probable.
enum TimelineImage {
    static let maximumClasses = 8
    static let rowHeight = 24

    static func write(_ result: ScanResult, to url: URL) throws {
        let classCount = result.classes.count
        let peaks = (0..<classCount).map { c in result.windows.map { $0.probabilities[c] }.max() ?? 0 }
        let rows = Array(peaks.indices.sorted { peaks[$0] != peaks[$1] ? peaks[$0] > peaks[$1] : $0 < $1 }.prefix(maximumClasses))
        // At most 4,000 columns: a longer recording's windows share columns, each showing the
        // highest probability among its windows.
        let n = result.windows.count, columns = min(n, 4_000)
        let columnWidth = max(1, 800 / max(1, columns))
        let width = columnWidth * columns, height = rows.count * rowHeight
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for (r, c) in rows.enumerated() {
            for w in 0..<columns {
                let members = result.windows[(w * n / columns)..<max(w * n / columns + 1, (w + 1) * n / columns)]
                let v = Double(members.map { $0.probabilities[c] }.max() ?? 0)
                let colour: [UInt8] = [UInt8(255 - 247 * v), UInt8(255 - 207 * v), UInt8(255 - 148 * v)]
                for y in (r * rowHeight + 1)..<((r + 1) * rowHeight) {
                    for x in (w * columnWidth)..<min(width, (w + 1) * columnWidth) {
                        let i = (y * width + x) * 3
                        pixels.replaceSubrange(i..<(i + 3), with: colour)
                    }
                }
            }
        }
        let image = try SummaryImage(width: width, height: height, channels: .rgb, pixels: pixels)
        do {
            try Data(image.pngData()).write(to: url, options: .atomic)
        } catch {
            throw ValidationError("cannot write \(url.path): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(
            Data(
                "\(url.path): rows top to bottom: \(rows.map { result.classes[$0] }.joined(separator: ", ")); x: 0 to \(String(format: "%.1f", result.duration)) s in \(result.windows.count) windows\n"
                    .utf8))
    }
}
