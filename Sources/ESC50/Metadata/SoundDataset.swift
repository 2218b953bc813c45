import Foundation

/// A labelled data set of sound clips, read from one of the common layouts (``DatasetLayout``):
/// ESC-50's (`meta/esc50.csv` and `audio/`), UrbanSound8K's (`metadata/UrbanSound8K.csv` and
/// `audio/fold<N>/`) or a folder of class folders.
///
/// Works for ESC-50 itself and for any data set laid out the same way (other classes, any
/// number of folds, clips in any format libsndfile decodes). In a CSV layout, columns may come in
/// any order, extra columns are ignored, and a UTF-8 BOM, CRLF line ends and quoted fields are
/// accepted; ESC-50's CSV needs `filename`, `fold`, `target` and `category` (`esc10`,
/// `src_file` and `take` are used when present), UrbanSound8K's needs `slice_file_name`, `fold`,
/// `classID` and `class` (`fsID` is used when present).
///
/// ```swift
/// let data = try SoundDataset(directory: URL(fileURLWithPath: "ESC-50-master"))
/// let split = try data.split(validationFolds: [5])
/// ```
///
/// Reading checks the metadata; ``verify(melConfig:validationFold:progress:)`` also decodes
/// every clip and lists every problem at once.
public struct SoundDataset: Sendable {
    /// The data set's root folder.
    public let root: URL
    /// How the data set is organised.
    public let layout: DatasetLayout
    /// The CSV that lists the clips (`root/meta/esc50.csv`, `root/metadata/UrbanSound8K.csv`),
    /// or `root` itself for a folder of class folders.
    public let metadataURL: URL
    /// The folder that ``ClipRecord/filename`` is relative to: `root/audio` for the CSV layouts,
    /// `root` for class folders.
    public let audioDirectory: URL
    /// Every clip, in CSV order (or by class, then path, for class folders).
    public let clips: [ClipRecord]
    /// The class names in Unicode code-point order, as the reference project's
    /// `sorted(df.category.unique())` orders them. A clip's training label is its category's
    /// position here; this is the list a checkpoint stores.
    public let classes: [String]
    /// The problems found while reading: rows left out with ``InvalidRows/skip`` (errors) and
    /// files that are not clips (warnings). ``verify(melConfig:validationFold:progress:)``
    /// repeats them in its report.
    public let problems: [DatasetProblem]
    private let classIndices: [String: Int]

    /// What ``init(directory:layout:folderSplit:checkFiles:invalidRows:)`` checks about the clip files.
    public enum FileCheck: Sendable {
        /// Do not look at the clip files.
        case none
        /// Each clip named by the CSV must exist as a regular file (a cheap `stat` per clip).
        case exists
    }

    /// What reading does with a row that has an error (a bad field, a duplicate, a label
    /// mismatch, a missing file).
    public enum InvalidRows: Sendable {
        /// Throw the first one as an ``ESC50Error`` naming the file and line.
        case throwFirst
        /// Leave the row out and list it in ``problems``.
        case skip
    }

    /// Reads the data set in `directory`.
    ///
    /// - Parameters:
    ///   - directory: the data set's root folder.
    ///   - layout: how it is organised; `nil` (the default) detects it with
    ///     ``DatasetLayout/detect(in:)``.
    ///   - folderSplit: the folds of a folder of class folders without a `fold<N>/` level.
    ///   - checkFiles: whether to check that each clip named by the CSV exists (default). To
    ///     check that each clip also decodes, call ``verify(melConfig:validationFold:progress:)``.
    ///   - invalidRows: throw at the first row with an error (default), or leave such rows out
    ///     and list them in ``problems``.
    /// - Throws: ``ESC50Error`` naming the file and CSV line: ``ESC50Error/unknownLayout(_:)``,
    ///   ``ESC50Error/metadataNotFound(_:)``, ``ESC50Error/malformedCSV(_:line:reason:)``,
    ///   ``ESC50Error/missingColumn(_:column:header:)``, ``ESC50Error/noClips(_:)``, and with
    ///   ``InvalidRows/throwFirst``: ``ESC50Error/invalidValue(_:line:column:value:expected:)``
    ///   (bad fold, target, esc10 or filename), ``ESC50Error/mislabelled(_:line:filename:detail:)``
    ///   (a target/category mismatch), ``ESC50Error/duplicateFilename(_:line:filename:firstLine:)``,
    ///   ``ESC50Error/missingClip(_:line:clip:)``.
    public init(
        directory: URL, layout: DatasetLayout? = nil, folderSplit: FolderSplit = FolderSplit(),
        checkFiles: FileCheck = .exists, invalidRows: InvalidRows = .throwFirst
    ) throws(ESC50Error) {
        let layout = try Self.resolve(layout, in: directory)
        guard let metadataPath = layout.metadataPath else {
            let scan = try FolderScan(root: directory, split: folderSplit)
            self.init(
                root: directory, layout: .folders, metadataURL: directory, audioDirectory: directory,
                clips: scan.clips, problems: scan.problems)
            return
        }
        let csvURL = directory.appendingPathComponent(metadataPath)
        guard FileManager.default.fileExists(atPath: csvURL.path) else {
            throw .metadataNotFound(csvURL)
        }
        let data: Data
        do {
            data = try Data(contentsOf: csvURL)
        } catch {
            throw .unreadableMetadata(csvURL, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableMetadata(csvURL, reason: "not valid UTF-8")
        }
        let columns = layout == .urbanSound8K ? MetadataColumns.urbanSound8K : MetadataColumns.esc50
        var (records, issues) = try Self.parse(csv: text, file: csvURL, columns: columns)
        let audio = directory.appendingPathComponent("audio")
        if checkFiles == .exists {
            for record in records {
                let clip = audio.appendingPathComponent(record.filename)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: clip.path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else {
                    issues.append(
                        RowIssue(
                            error: .missingClip(csvURL, line: record.csvLine, clip: clip),
                            problem: DatasetProblem(
                                .missingFile, file: record.filename, metadataFile: csvURL.lastPathComponent,
                                line: record.csvLine,
                                detail: "audio/\(record.filename) \(isDirectory.boolValue ? "is a folder" : "does not exist")")))
                    continue
                }
            }
        }
        if let first = issues.first, invalidRows == .throwFirst { throw first.error }
        let badLines = Set(issues.map(\.problem.line))
        records.removeAll { badLines.contains($0.csvLine) }
        guard !records.isEmpty else {
            throw .noClips("\(csvURL.path) lists no usable clip (\(issues.count) rows with errors)")
        }
        self.init(
            root: directory, layout: layout, metadataURL: csvURL, audioDirectory: audio, clips: records,
            problems: issues.map(\.problem).sorted(by: DatasetProblem.listingOrder))
    }

    /// `layout`, or the one detected in `directory` when it is `nil`.
    private static func resolve(_ layout: DatasetLayout?, in directory: URL) throws(ESC50Error) -> DatasetLayout {
        if let layout { return layout }
        return try DatasetLayout.detect(in: directory)
    }

    /// A data set made of `clips` under `root`, with its class list recomputed from them.
    init(
        root: URL, layout: DatasetLayout, metadataURL: URL, audioDirectory: URL, clips: [ClipRecord],
        problems: [DatasetProblem] = []
    ) {
        self.root = root
        self.layout = layout
        self.metadataURL = metadataURL
        self.audioDirectory = audioDirectory
        self.clips = clips
        self.problems = problems
        // Code-point order, exactly as Python's sorted() orders str (Swift's String `<` would
        // compare canonically equivalent forms instead).
        self.classes = Set(clips.map(\.category)).sorted {
            $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
        }
        self.classIndices = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    }

    /// The audio file of `clip`: ``audioDirectory``/`<filename>`.
    public func audioURL(for clip: ClipRecord) -> URL {
        audioDirectory.appendingPathComponent(clip.filename)
    }

    /// Where `clip` comes from, for messages: `esc50.csv:12` for a CSV row, else its file name.
    public func origin(of clip: ClipRecord) -> String {
        clip.csvLine > 0 ? "\(metadataURL.lastPathComponent):\(clip.csvLine)" : clip.filename
    }

    /// The same data set without the clips named in `files` (as ``ClipRecord/filename`` names
    /// them), e.g. the clips with errors in a ``DatasetReport``. The class list is recomputed.
    public func removing(files: Set<String>) -> SoundDataset {
        SoundDataset(
            root: root, layout: layout, metadataURL: metadataURL, audioDirectory: audioDirectory,
            clips: clips.filter { !files.contains($0.filename) }, problems: problems)
    }

    /// The training label of `category`: its position in ``classes``, or `nil` if unknown.
    public func classIndex(of category: String) -> Int? {
        classIndices[category]
    }

    /// The folds present in the CSV, ascending.
    public var folds: [Int] { Set(clips.map(\.fold)).sorted() }

    /// The ESC-10 subset (rows whose `esc10` is true), with its own 10-class list.
    ///
    /// - Throws: ``ESC50Error/noClips(_:)`` when no row is marked `esc10`.
    public func esc10Subset() throws(ESC50Error) -> SoundDataset {
        let subset = clips.filter(\.isESC10)
        guard !subset.isEmpty else {
            throw .noClips("\(metadataURL.path) marks no clip as esc10")
        }
        return SoundDataset(
            root: root, layout: layout, metadataURL: metadataURL, audioDirectory: audioDirectory, clips: subset,
            problems: problems)
    }

    /// The clips of the given folds, in CSV order.
    ///
    /// - Throws: ``ESC50Error/invalidSelection(_:)`` when a fold is not in the data set.
    public func clips(inFolds folds: some Sequence<Int>) throws(ESC50Error) -> [ClipRecord] {
        let wanted = Set(folds)
        let present = Set(self.folds)
        let unknown = wanted.subtracting(present).sorted()
        guard unknown.isEmpty else {
            throw .invalidSelection(
                "fold \(unknown.map(String.init).joined(separator: ", ")) is not in \(metadataURL.path) (folds present: \(self.folds.map(String.init).joined(separator: ", ")))"
            )
        }
        return clips.filter { wanted.contains($0.fold) }
    }
}

extension SoundDataset {
    /// The loader items of `clips`: each clip's audio file, with its position in ``classes`` as
    /// label and its CSV line as origin.
    /// - Throws: ``ESC50Error/invalidSelection(_:)`` when a clip's category is not one of
    ///   ``classes`` (e.g. clips of a different data set).
    public func loaderItems(_ clips: [ClipRecord]) throws(ESC50Error) -> [LoaderItem] {
        var items: [LoaderItem] = []
        items.reserveCapacity(clips.count)
        for clip in clips {
            guard let label = classIndex(of: clip.category) else {
                throw .invalidSelection(
                    "\(metadataURL.path):\(clip.csvLine): category '\(clip.category)' is not one of this data set's \(classes.count) classes"
                )
            }
            items.append(
                LoaderItem(
                    url: audioURL(for: clip), label: label,
                    origin: origin(of: clip)))
        }
        return items
    }
}

/// The name ``SoundDataset`` had when it read only the ESC-50 layout; kept so existing code builds.
public typealias ESC50Dataset = SoundDataset
