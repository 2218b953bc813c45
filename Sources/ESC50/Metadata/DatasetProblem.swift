import Foundation

/// One problem found while reading or verifying a data set: what is wrong, with which clip (as
/// the CSV or the folder names it) and, for CSV layouts, on which line.
public struct DatasetProblem: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is; ``severity`` follows from it.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A row names a file that does not exist (or is not a regular file).
        case missingFile = "missing file"
        /// The file exists but cannot be read or decoded.
        case unreadableFile = "unreadable file"
        /// The file is not in an audio format the decoder knows.
        case unsupportedFile = "unsupported file"
        /// The file is empty or holds a valid header and no samples.
        case emptyFile = "empty file"
        /// The file holds fewer samples than one STFT frame.
        case tooShort = "shorter than one STFT frame"
        /// A sample is NaN or infinite.
        case nonFiniteSamples = "non-finite samples"
        /// Two rows name the same file.
        case duplicateRow = "duplicate row"
        /// A row's label disagrees with another row's or with the label its file name encodes.
        case labelMismatch = "label mismatch"
        /// A row has a missing or unparsable field.
        case invalidRow = "invalid row"
        /// A file inside the data set that is not a clip (not an audio file, or outside any class folder).
        case ignoredFile = "ignored file"
        /// A fold has no clip of some class.
        case classAbsentFromFold = "class absent from a fold"
        /// The validation fold has no clip of some class, so its accuracy says nothing about it.
        case classAbsentFromValidation = "class absent from the validation fold"

        /// Whether a problem of this kind makes the clip (or the data set) unusable.
        public var severity: Severity {
            switch self {
            case .ignoredFile, .classAbsentFromFold, .classAbsentFromValidation: return .warning
            default: return .error
            }
        }
    }

    /// Errors make a clip unusable; warnings are worth knowing but do not stop training.
    public enum Severity: String, Sendable, Hashable, Comparable {
        /// The clip (or the data set) cannot be used as it is.
        case error
        /// Worth knowing; training goes on.
        case warning

        /// Errors sort before warnings.
        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
    }

    /// What is wrong.
    public var kind: Kind
    /// The clip (or other file) as the CSV or the folder names it, relative to the data set's
    /// audio folder; empty for problems of a whole fold or class.
    public var file: String
    /// The metadata file the problem comes from (`esc50.csv`, `UrbanSound8K.csv`), or `nil` for
    /// folder layouts and data-set-wide problems.
    public var metadataFile: String?
    /// The 1-based line of ``metadataFile`` the problem comes from, or `nil`.
    public var line: Int?
    /// Details: what was found and what was expected.
    public var detail: String

    /// A problem of `kind` with `file`, found on `line` of `metadataFile` (`nil` when it does
    /// not come from a CSV row).
    public init(_ kind: Kind, file: String, metadataFile: String? = nil, line: Int? = nil, detail: String) {
        self.kind = kind
        self.file = file
        self.metadataFile = line == nil ? nil : metadataFile
        self.line = metadataFile == nil ? nil : line
        self.detail = detail
    }

    /// Whether the problem makes its clip unusable.
    public var severity: Severity { kind.severity }

    /// `error: esc50.csv:12: dog bark.wav: missing file: ...`: severity, CSV line (if any), file,
    /// kind and details.
    public var description: String {
        var parts = [severity.rawValue]
        if let metadataFile, let line { parts.append("\(metadataFile):\(line)") }
        if !file.isEmpty { parts.append(file) }
        parts.append(kind.rawValue)
        if !detail.isEmpty { parts.append(detail) }
        return parts.joined(separator: ": ")
    }

    /// The order problems are listed in: by CSV line, then file name, then kind.
    static func listingOrder(_ a: DatasetProblem, _ b: DatasetProblem) -> Bool {
        let aLine = a.line ?? Int.max, bLine = b.line ?? Int.max
        if aLine != bLine { return aLine < bLine }
        if a.file != b.file {
            // Data-set-wide problems (no file) after the per-file ones.
            if a.file.isEmpty || b.file.isEmpty { return !a.file.isEmpty }
            return a.file.unicodeScalars.lexicographicallyPrecedes(b.file.unicodeScalars)
        }
        if a.kind != b.kind { return Kind.allCases.firstIndex(of: a.kind)! < Kind.allCases.firstIndex(of: b.kind)! }
        return a.detail < b.detail
    }
}
