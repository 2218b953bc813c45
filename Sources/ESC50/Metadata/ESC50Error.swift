import Foundation

/// What can go wrong while reading a data set (in any ``DatasetLayout``) or one of its clips.
///
/// Every case names the file at fault and, where a CSV row is involved, its 1-based line.
public enum ESC50Error: Error, Equatable, CustomStringConvertible {
    /// The folder is not a data set in any ``DatasetLayout`` (or is not a folder).
    case unknownLayout(URL)
    /// The data set folder has no metadata file for its layout (`meta/esc50.csv`,
    /// `metadata/UrbanSound8K.csv`).
    case metadataNotFound(URL)
    /// The metadata file exists but could not be read or decoded as UTF-8.
    case unreadableMetadata(URL, reason: String)
    /// The CSV is malformed (unterminated quote, stray quote, empty file).
    case malformedCSV(URL, line: Int, reason: String)
    /// A required column is missing from the CSV header.
    case missingColumn(URL, column: String, header: [String])
    /// A row has fewer fields than the header.
    case shortRow(URL, line: Int, expected: Int, found: Int)
    /// A field holds a value that does not parse or is out of range.
    case invalidValue(URL, line: Int, column: String, value: String, expected: String)
    /// Two rows give one `category` different `target`s, or one `target` different categories.
    case mislabelled(URL, line: Int, filename: String, detail: String)
    /// A file name appears on two rows.
    case duplicateFilename(URL, line: Int, filename: String, firstLine: Int)
    /// The CSV names a clip that is not in `audio/`.
    case missingClip(URL, line: Int, clip: URL)
    /// The CSV names a clip that exists but cannot be decoded.
    case unreadableClip(URL, line: Int, clip: URL, reason: String)
    /// The CSV has a header but no rows, or a selection left no clips.
    case noClips(String)
    /// A selection names a fold or class that the data set does not have.
    case invalidSelection(String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .unknownLayout(let url):
            return
                "\(url.path): not a data set folder: expected meta/esc50.csv (ESC-50 layout), metadata/UrbanSound8K.csv (UrbanSound8K) or class folders holding audio files"
        case .metadataNotFound(let url):
            return "\(url.path): not found (the data set's layout needs this metadata file)"
        case .unreadableMetadata(let url, let reason):
            return "\(url.path): cannot be read: \(reason)"
        case .malformedCSV(let url, let line, let reason):
            return "\(url.path):\(line): malformed CSV: \(reason)"
        case .missingColumn(let url, let column, let header):
            return "\(url.path):1: missing column '\(column)' (header has: \(header.joined(separator: ", ")))"
        case .shortRow(let url, let line, let expected, let found):
            return "\(url.path):\(line): \(found) fields, expected \(expected) as in the header"
        case .invalidValue(let url, let line, let column, let value, let expected):
            return "\(url.path):\(line): column '\(column)' is '\(value)', expected \(expected)"
        case .mislabelled(let url, let line, let filename, let detail):
            return "\(url.path):\(line): \(filename) is mislabelled: \(detail)"
        case .duplicateFilename(let url, let line, let filename, let firstLine):
            return "\(url.path):\(line): \(filename) is listed twice (first on line \(firstLine))"
        case .missingClip(let url, let line, let clip):
            return "\(url.path):\(line): clip \(clip.path) does not exist"
        case .unreadableClip(let url, let line, let clip, let reason):
            return "\(url.path):\(line): clip \(clip.path) cannot be decoded: \(reason)"
        case .noClips(let detail):
            return "no clips: \(detail)"
        case .invalidSelection(let detail):
            return "invalid selection: \(detail)"
        }
    }
}
