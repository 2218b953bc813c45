import Foundation

/// Text formats for the windows or events of scanned recordings: one row per event whose first
/// four columns are start (s), end (s), class and confidence, then the file.
public enum EventTableFormat: String, Sendable, CaseIterable {
    /// Comma-separated, with a header line; fields quoted when they hold a comma, quote or line break.
    case csv
    /// One JSON object per line: `{"start", "end", "class", "confidence", "file"}`.
    case jsonl
    /// A Raven selection table (tab-separated; Raven finds columns by their header names):
    /// `Begin Time (s)`, `End Time (s)`, `Class`, `Confidence`, then `Begin File`, `Selection`,
    /// `View`, `Channel`, `Low Freq (Hz)`, `High Freq (Hz)`. Frequencies span 0 to `nyquist`.
    case raven

    /// The header line, or `nil` for ``jsonl``.
    public var header: String? {
        switch self {
        case .csv: return "start,end,class,confidence,file"
        case .jsonl: return nil
        case .raven:
            return [
                "Begin Time (s)", "End Time (s)", "Class", "Confidence", "Begin File", "Selection", "View", "Channel", "Low Freq (Hz)",
                "High Freq (Hz)",
            ]
            .joined(separator: "\t")
        }
    }

    /// One row for `event` of `file`; `selection` numbers Raven's rows (from 1) and `nyquist`
    /// is its High Freq, in Hz.
    public func row(_ event: SoundEvent, file: String, selection: Int = 1, nyquist: Double = 22_050) -> String {
        let start = String(format: "%.3f", event.start), end = String(format: "%.3f", event.end)
        let confidence = String(format: "%.4f", event.confidence)
        switch self {
        case .csv:
            return [start, end, Self.csvField(event.className), confidence, Self.csvField(file)].joined(separator: ",")
        case .jsonl:
            return
                "{\"start\":\(start),\"end\":\(end),\"class\":\(Self.jsonString(event.className)),\"confidence\":\(confidence),\"file\":\(Self.jsonString(file))}"
        case .raven:
            let clean = { (text: String) in text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ") }
            return [
                start, end, clean(event.className), confidence, clean(file), "\(selection)", "Spectrogram 1", "1", "0",
                String(format: "%.1f", nyquist),
            ]
            .joined(separator: "\t")
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a JSON string literal (Foundation's escaping, slashes left alone).
    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
