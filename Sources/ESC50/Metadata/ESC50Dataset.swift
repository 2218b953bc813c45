import Foundation

/// A data set in the ESC-50 layout: `meta/esc50.csv` and the clips it names under `audio/`.
///
/// Works for ESC-50 itself and for any data set laid out the same way (other classes, any
/// number of folds, clips in any format libsndfile decodes). The CSV needs the columns
/// `filename`, `fold`, `target` and `category`; `esc10`, `src_file` and `take` are used when
/// present. Columns may come in any order, extra columns are ignored, and a UTF-8 BOM, CRLF line
/// ends and quoted fields are accepted.
///
/// ```swift
/// let data = try ESC50Dataset(directory: URL(fileURLWithPath: "ESC-50-master"))
/// let split = try data.split(validationFolds: [5])
/// ```
public struct ESC50Dataset: Sendable {
    /// The data set's root folder (holding `audio/` and `meta/`).
    public let root: URL
    /// `root/meta/esc50.csv`.
    public let metadataURL: URL
    /// Every clip, in CSV order.
    public let clips: [ClipRecord]
    /// The class names in Unicode code-point order, as the reference project's
    /// `sorted(df.category.unique())` orders them. A clip's training label is its category's
    /// position here; this is the list a checkpoint stores.
    public let classes: [String]
    private let classIndices: [String: Int]

    /// What ``init(directory:checkFiles:)`` checks about the clip files.
    public enum FileCheck: Sendable {
        /// Do not look at the clip files.
        case none
        /// Each clip named by the CSV must exist as a regular file (a cheap `stat` per clip).
        case exists
    }

    /// Reads and validates `directory/meta/esc50.csv`.
    ///
    /// - Parameters:
    ///   - directory: the data set's root folder.
    ///   - checkFiles: whether to check that each clip named by the CSV exists (default). To
    ///     check that each clip also decodes, call ``verifyClips(using:)``.
    /// - Throws: ``ESC50Error`` naming the file and CSV line: ``ESC50Error/metadataNotFound(_:)``,
    ///   ``ESC50Error/malformedCSV(_:line:reason:)``, ``ESC50Error/missingColumn(_:column:header:)``,
    ///   ``ESC50Error/invalidValue(_:line:column:value:expected:)`` (bad fold, target, esc10 or
    ///   filename), ``ESC50Error/mislabelled(_:line:filename:detail:)`` (a target/category
    ///   mismatch), ``ESC50Error/duplicateFilename(_:line:filename:firstLine:)``,
    ///   ``ESC50Error/missingClip(_:line:clip:)``, ``ESC50Error/noClips(_:)``.
    public init(directory: URL, checkFiles: FileCheck = .exists) throws(ESC50Error) {
        let csvURL = directory.appendingPathComponent("meta").appendingPathComponent("esc50.csv")
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
        let records = try Self.parse(csv: text, file: csvURL)
        if checkFiles == .exists {
            let audio = directory.appendingPathComponent("audio")
            for record in records {
                let clip = audio.appendingPathComponent(record.filename)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: clip.path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else {
                    throw .missingClip(csvURL, line: record.csvLine, clip: clip)
                }
            }
        }
        self.init(root: directory, metadataURL: csvURL, clips: records)
    }

    /// A data set made of `clips` under `root`, with its class list recomputed from them.
    init(root: URL, metadataURL: URL, clips: [ClipRecord]) {
        self.root = root
        self.metadataURL = metadataURL
        self.clips = clips
        // Code-point order, exactly as Python's sorted() orders str (Swift's String `<` would
        // compare canonically equivalent forms instead).
        self.classes = Set(clips.map(\.category)).sorted {
            $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
        }
        self.classIndices = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    }

    /// The audio file of `clip`: `root/audio/<filename>`.
    public func audioURL(for clip: ClipRecord) -> URL {
        root.appendingPathComponent("audio").appendingPathComponent(clip.filename)
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
    public func esc10Subset() throws(ESC50Error) -> ESC50Dataset {
        let subset = clips.filter(\.isESC10)
        guard !subset.isEmpty else {
            throw .noClips("\(metadataURL.path) marks no clip as esc10")
        }
        return ESC50Dataset(root: root, metadataURL: metadataURL, clips: subset)
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

    /// Parses the CSV text of `file` into validated records.
    static func parse(csv text: String, file: URL) throws(ESC50Error) -> [ClipRecord] {
        let table: CSVTable
        do {
            table = try CSVTable(text: text)
        } catch {
            throw .malformedCSV(file, line: error.line, reason: error.message)
        }
        func required(_ name: String) throws(ESC50Error) -> Int {
            guard let index = table.column(name) else {
                throw .missingColumn(file, column: name, header: table.header)
            }
            return index
        }
        let filenameColumn = try required("filename")
        let foldColumn = try required("fold")
        let targetColumn = try required("target")
        let categoryColumn = try required("category")
        let esc10Column = table.column("esc10")
        let sourceColumn = table.column("src_file")
        let takeColumn = table.column("take")
        let needed =
            [filenameColumn, foldColumn, targetColumn, categoryColumn, esc10Column, sourceColumn, takeColumn]
            .compactMap { $0 }.max()! + 1

        var records: [ClipRecord] = []
        records.reserveCapacity(table.rows.count)
        var firstLineOfFile: [String: Int] = [:]
        var targetOfCategory: [String: (target: Int, line: Int)] = [:]
        var categoryOfTarget: [Int: (category: String, line: Int)] = [:]

        for row in table.rows {
            let line = row.line
            guard row.fields.count >= needed else {
                throw .shortRow(file, line: line, expected: table.header.count, found: row.fields.count)
            }
            func field(_ index: Int) -> String { row.fields[index].trimmingCharacters(in: .whitespaces) }

            let filename = field(filenameColumn)
            let components = filename.split(separator: "/", omittingEmptySubsequences: false)
            guard !filename.isEmpty, !filename.hasPrefix("/"), !components.contains(".."), !components.contains("") else {
                throw .invalidValue(
                    file, line: line, column: "filename", value: filename,
                    expected: "a file name relative to audio/ (no '..', no leading '/')")
            }
            let foldText = field(foldColumn)
            guard let fold = Int(foldText), fold >= 1 else {
                throw .invalidValue(file, line: line, column: "fold", value: foldText, expected: "an integer >= 1")
            }
            let targetText = field(targetColumn)
            guard let target = Int(targetText), target >= 0 else {
                throw .invalidValue(file, line: line, column: "target", value: targetText, expected: "an integer >= 0")
            }
            let category = field(categoryColumn)
            guard !category.isEmpty else {
                throw .invalidValue(file, line: line, column: "category", value: category, expected: "a class name")
            }
            var isESC10 = false
            if let esc10Column {
                switch field(esc10Column).lowercased() {
                case "true", "1": isESC10 = true
                case "false", "0", "": isESC10 = false
                default:
                    throw .invalidValue(
                        file, line: line, column: "esc10", value: field(esc10Column),
                        expected: "True or False")
                }
            }
            if let first = firstLineOfFile[filename] {
                throw .duplicateFilename(file, line: line, filename: filename, firstLine: first)
            }
            firstLineOfFile[filename] = line
            if let known = targetOfCategory[category], known.target != target {
                throw .mislabelled(
                    file, line: line, filename: filename,
                    detail: "category '\(category)' has target \(target) here but \(known.target) on line \(known.line)")
            }
            if let known = categoryOfTarget[target], known.category != category {
                throw .mislabelled(
                    file, line: line, filename: filename,
                    detail: "target \(target) is '\(category)' here but '\(known.category)' on line \(known.line)")
            }
            targetOfCategory[category] = targetOfCategory[category] ?? (target, line)
            categoryOfTarget[target] = categoryOfTarget[target] ?? (category, line)

            records.append(
                ClipRecord(
                    filename: filename, fold: fold, target: target, category: category, isESC10: isESC10,
                    sourceFile: sourceColumn.map(field) ?? "", take: takeColumn.map(field) ?? "", csvLine: line))
        }
        guard !records.isEmpty else { throw .noClips("\(file.path) has a header but no rows") }
        return records
    }
}

extension ESC50Dataset {
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
                    origin: "\(metadataURL.lastPathComponent):\(clip.csvLine)"))
        }
        return items
    }
}
