import AudioDSP
import Foundation
import _Locking

extension SoundDataset {
    /// Decodes every clip (on all cores) and lists every problem of the data set at once.
    ///
    /// The report holds, in CSV-line (or file-name) order:
    /// - the problems found while reading (``problems``: rows left out, ignored files);
    /// - per clip: a file that cannot be read or is not audio, an empty file (no bytes, or a
    ///   valid header and no samples), a file shorter than one STFT frame of `melConfig`, a
    ///   NaN or infinite sample;
    /// - warnings for a class with no usable clip in some fold, or in `validationFold`.
    ///
    /// - Parameters:
    ///   - melConfig: the front-end the clips will feed; a clip shorter than its `nFFT` samples
    ///     (at its `sampleRate`) is an error.
    ///   - validationFold: the fold that will be held out, if known; a class absent from it gets
    ///     its own warning.
    ///   - progress: called with (clips checked, total) as decoding goes on, from any thread.
    public func verify(
        melConfig: MelConfig = MelConfig(), validationFold: Int? = nil,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) -> DatasetReport {
        let minimumSeconds = Double(melConfig.nFFT) / Double(melConfig.sampleRate)
        let found = Locked<[DatasetProblem]>([])
        let done = Locked(0)
        let clips = self.clips
        let csvName = layout == .folders ? nil : metadataURL.lastPathComponent
        DispatchQueue.concurrentPerform(iterations: clips.count) { index in
            let clip = clips[index]
            if let (kind, detail) = Self.check(audioURL(for: clip), minimumSeconds: minimumSeconds) {
                let problem = DatasetProblem(
                    kind, file: clip.filename, metadataFile: csvName, line: clip.csvLine > 0 ? clip.csvLine : nil,
                    detail: detail)
                found.withLock { $0.append(problem) }
            }
            let count = done.withLock { value -> Int in
                value += 1
                return value
            }
            progress?(count, clips.count)
        }
        var all = problems + found.withLock { $0 } + unlistedFiles()
        let invalid = DatasetReport(problems: all, clipCount: 0).invalidFiles
        all += Self.foldWarnings(clips.filter { !invalid.contains($0.filename) }, validationFold: validationFold)
        return DatasetReport(problems: all, clipCount: clips.count + problems.count { $0.severity == .error })
    }

    /// Decodes every clip (on all cores) and reports the first one, in CSV order, that does not
    /// decode. ``verify(melConfig:validationFold:progress:)`` lists every problem instead.
    ///
    /// - Parameter check: decodes one clip, throwing a description of the problem; by default
    ///   a full decode with AudioDSP.
    /// - Throws: ``ESC50Error/unreadableClip(_:line:clip:reason:)`` naming the clip and its CSV line.
    public func verifyClips(using check: @escaping @Sendable (URL) throws -> Void = ClipLoader.checkDecodes)
        throws(ESC50Error)
    {
        let first = Locked<(index: Int, error: ESC50Error)?>(nil)
        let clips = self.clips
        DispatchQueue.concurrentPerform(iterations: clips.count) { index in
            let url = audioURL(for: clips[index])
            do {
                try check(url)
            } catch {
                let failure = ESC50Error.unreadableClip(
                    metadataURL, line: clips[index].csvLine, clip: url, reason: String(describing: error))
                // Keep the lowest index, so the error reported does not depend on threads.
                first.withLock { if $0 == nil || index < $0!.index { $0 = (index, failure) } }
            }
        }
        if let failure = first.withLock({ $0 }) { throw failure.error }
    }

    /// A warning for each audio file in a CSV layout's audio folder (and its `foldN/` folders)
    /// that no row names.
    func unlistedFiles() -> [DatasetProblem] {
        guard layout != .folders else { return [] }
        let listed = Set(clips.map(\.filename) + problems.map(\.file))
        var folders = [""]
        if layout == .urbanSound8K {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: audioDirectory.path)) ?? []
            folders = names.filter { FolderScan.foldNumber($0) != nil }.sorted().map { $0 + "/" }
        }
        var found: [DatasetProblem] = []
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: audioDirectory.appendingPathComponent(folder).path)) ?? []
            for name in names.sorted()
            where !name.hasPrefix(".") && AudioFile.commonFileExtensions.contains((name as NSString).pathExtension.lowercased())
                && !listed.contains(folder + name)
            {
                found.append(DatasetProblem(.ignoredFile, file: folder + name, detail: "not listed in \(metadataURL.lastPathComponent)"))
            }
        }
        return found
    }

    /// What is wrong with the clip at `url`, or `nil` when it decodes to usable audio.
    static func check(_ url: URL, minimumSeconds: Double) -> (DatasetProblem.Kind, String)? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return (.missingFile, isDirectory.boolValue ? "\(url.path) is a folder" : "\(url.path) does not exist")
        }
        let file: AudioFile
        do {
            file = try AudioFile(contentsOf: url)
        } catch {
            switch error {
            case .empty: return (.emptyFile, "the file has 0 bytes")
            case .notAudio: return (.unsupportedFile, error.description)
            default: return (.unreadableFile, error.description)
            }
        }
        if file.samples.isEmpty { return (.emptyFile, "a valid header and no samples") }
        let minimum = Int((minimumSeconds * Double(file.sampleRate)).rounded(.up))
        if file.samples.count < minimum {
            return (
                .tooShort,
                "\(file.samples.count) samples at \(file.sampleRate) Hz, at least \(minimum) needed (\(String(format: "%.1f", minimumSeconds * 1000)) ms)"
            )
        }
        if let bad = file.samples.firstIndex(where: { !$0.isFinite }) {
            return (.nonFiniteSamples, "sample \(bad) is \(file.samples[bad])")
        }
        return nil
    }

    /// A warning for each class (of `clips`) with no clip in some fold.
    static func foldWarnings(_ clips: [ClipRecord], validationFold: Int?) -> [DatasetProblem] {
        let classes = Set(clips.map(\.category)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let present = Dictionary(grouping: clips, by: \.fold).mapValues { Set($0.map(\.category)) }
        var warnings: [DatasetProblem] = []
        for fold in present.keys.sorted() {
            for category in classes where !present[fold]!.contains(category) {
                if fold == validationFold {
                    warnings.append(
                        DatasetProblem(
                            .classAbsentFromValidation, file: "",
                            detail: "validation fold \(fold) has no usable clip of class '\(category)'"))
                } else {
                    warnings.append(
                        DatasetProblem(.classAbsentFromFold, file: "", detail: "fold \(fold) has no usable clip of class '\(category)'"))
                }
            }
        }
        if let validationFold, present[validationFold] == nil, !clips.isEmpty {
            warnings.append(
                DatasetProblem(.classAbsentFromValidation, file: "", detail: "validation fold \(validationFold) has no usable clip"))
        }
        return warnings
    }
}

/// Every problem ``SoundDataset/verify(melConfig:validationFold:progress:)`` found, in listing order.
public struct DatasetReport: Sendable, CustomStringConvertible {
    /// Errors and warnings, by CSV line (or file name); data-set-wide warnings last.
    public let problems: [DatasetProblem]
    /// The clips (and rows) looked at, including the rows left out while reading.
    public let clipCount: Int

    /// A report of `problems` (put in listing order) about `clipCount` clips.
    public init(problems: [DatasetProblem], clipCount: Int) {
        self.problems = problems.sorted(by: DatasetProblem.listingOrder)
        self.clipCount = clipCount
    }

    /// The problems that make a clip unusable.
    public var errors: [DatasetProblem] { problems.filter { $0.severity == .error } }
    /// The problems worth knowing that do not stop training.
    public var warnings: [DatasetProblem] { problems.filter { $0.severity == .warning } }
    /// Whether any clip is unusable.
    public var hasErrors: Bool { problems.contains { $0.severity == .error } }
    /// The files (as ``ClipRecord/filename`` names them) with at least one error: what
    /// ``SoundDataset/removing(files:)`` should leave out to train on the rest. A duplicate row
    /// with the clip's own label does not make the clip invalid (the row was left out).
    public var invalidFiles: Set<String> { Set(errors.filter { $0.kind != .duplicateRow }.map(\.file).filter { !$0.isEmpty }) }

    /// How many problems of each kind, in ``DatasetProblem/Kind`` order, kinds without problems left out.
    public var counts: [(kind: DatasetProblem.Kind, count: Int)] {
        DatasetProblem.Kind.allCases.compactMap { kind in
            let n = problems.count { $0.kind == kind }
            return n > 0 ? (kind, n) : nil
        }
    }

    /// `3 errors (2 missing file, 1 empty file), 1 warning (1 class absent from a fold)`, or
    /// `no problems`.
    public var summary: String {
        func part(_ severity: DatasetProblem.Severity) -> String? {
            let kinds = counts.filter { $0.kind.severity == severity }
            let total = kinds.reduce(0) { $0 + $1.count }
            guard total > 0 else { return nil }
            let name = severity == .error ? "error" : "warning"
            return "\(total) \(name)\(total == 1 ? "" : "s") (\(kinds.map { "\($0.count) \($0.kind.rawValue)" }.joined(separator: ", ")))"
        }
        let parts = [part(.error), part(.warning)].compactMap { $0 }
        return parts.isEmpty ? "no problems" : parts.joined(separator: ", ")
    }

    /// One line per problem, then ``summary``.
    public var description: String {
        (problems.map(\.description) + [summary]).joined(separator: "\n")
    }
}
