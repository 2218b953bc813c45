import Foundation

/// The columns of a CSV layout and how its rows name their files.
struct MetadataColumns {
    var filename: String
    var fold: String
    var target: String
    var category: String
    var esc10: String?
    var source: String?
    var take: String?
    /// Whether the clip lives in `audio/fold<N>/` (UrbanSound8K) rather than `audio/`.
    var inFoldFolders: Bool
    /// Which `-`-separated part of a conventional file name (`1-100038-A-14.wav`,
    /// `100032-3-0-0.wav`) holds the class index, and how many parts such a name has.
    var targetInName: (part: Int, parts: Int)

    static let esc50 = MetadataColumns(
        filename: "filename", fold: "fold", target: "target", category: "category", esc10: "esc10",
        source: "src_file", take: "take", inFoldFolders: false, targetInName: (3, 4))
    static let urbanSound8K = MetadataColumns(
        filename: "slice_file_name", fold: "fold", target: "classID", category: "class", esc10: nil,
        source: "fsID", take: nil, inFoldFolders: true, targetInName: (1, 4))
}

/// A row with an error: the ``ESC50Error`` that strict reading throws and the
/// ``DatasetProblem`` that lenient reading lists.
struct RowIssue {
    var error: ESC50Error
    var problem: DatasetProblem
}

extension SoundDataset {
    /// Parses the CSV text of `file` into the records of valid rows and an issue for every row
    /// with an error (in line order).
    /// - Throws: ``ESC50Error`` for problems of the whole file: malformed CSV, a missing column.
    static func parse(csv text: String, file: URL, columns: MetadataColumns) throws(ESC50Error)
        -> (records: [ClipRecord], issues: [RowIssue])
    {
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
        let filenameColumn = try required(columns.filename)
        let foldColumn = try required(columns.fold)
        let targetColumn = try required(columns.target)
        let categoryColumn = try required(columns.category)
        let esc10Column = columns.esc10.flatMap(table.column)
        let sourceColumn = columns.source.flatMap(table.column)
        let takeColumn = columns.take.flatMap(table.column)
        let needed =
            [filenameColumn, foldColumn, targetColumn, categoryColumn, esc10Column, sourceColumn, takeColumn]
            .compactMap { $0 }.max()! + 1
        let csvName = file.lastPathComponent

        var records: [ClipRecord] = []
        records.reserveCapacity(table.rows.count)
        var issues: [RowIssue] = []
        var firstRowOfFile: [String: (line: Int, category: String)] = [:]
        var targetOfCategory: [String: (target: Int, line: Int)] = [:]
        var categoryOfTarget: [Int: (category: String, line: Int)] = [:]

        rows: for row in table.rows {
            let line = row.line
            let named = filenameColumn < row.fields.count ? row.fields[filenameColumn].trimmingCharacters(in: .whitespaces) : ""
            // The file as ClipRecord.filename names it, once its fold is known (UrbanSound8K's audio/foldN/).
            var display = named
            func fail(_ kind: DatasetProblem.Kind, _ error: ESC50Error, _ detail: String) {
                issues.append(
                    RowIssue(
                        error: error,
                        problem: DatasetProblem(kind, file: display, metadataFile: csvName, line: line, detail: detail)))
            }
            func invalid(_ column: String, _ value: String, _ expected: String) {
                fail(
                    .invalidRow, .invalidValue(file, line: line, column: column, value: value, expected: expected),
                    "column '\(column)' is '\(value)', expected \(expected)")
            }
            guard row.fields.count >= needed else {
                fail(
                    .invalidRow, .shortRow(file, line: line, expected: table.header.count, found: row.fields.count),
                    "\(row.fields.count) fields, expected \(table.header.count) as in the header")
                continue
            }
            func field(_ index: Int) -> String { row.fields[index].trimmingCharacters(in: .whitespaces) }

            let components = named.split(separator: "/", omittingEmptySubsequences: false)
            guard !named.isEmpty, !named.hasPrefix("/"), !components.contains(".."), !components.contains(""),
                !columns.inFoldFolders || components.count == 1
            else {
                invalid(
                    columns.filename, named,
                    columns.inFoldFolders
                        ? "a file name in audio/fold<N>/ (no '/')" : "a file name relative to audio/ (no '..', no leading '/')")
                continue
            }
            let foldText = field(foldColumn)
            guard let fold = Int(foldText), fold >= 1 else {
                invalid(columns.fold, foldText, "an integer >= 1")
                continue
            }
            let targetText = field(targetColumn)
            guard let target = Int(targetText), target >= 0 else {
                invalid(columns.target, targetText, "an integer >= 0")
                continue
            }
            let category = field(categoryColumn)
            guard !category.isEmpty else {
                invalid(columns.category, category, "a class name")
                continue
            }
            var isESC10 = false
            if let esc10Column {
                switch field(esc10Column).lowercased() {
                case "true", "1": isESC10 = true
                case "false", "0", "": isESC10 = false
                default:
                    invalid(columns.esc10!, field(esc10Column), "True or False")
                    continue rows
                }
            }
            let filename = columns.inFoldFolders ? "fold\(fold)/\(named)" : named
            display = filename
            if let first = firstRowOfFile[filename] {
                // The same label twice: the row is left out and the clip kept. Two labels: the
                // clip is unusable (which one is right?).
                let sameLabel = first.category == category
                fail(
                    sameLabel ? .duplicateRow : .labelMismatch,
                    .duplicateFilename(file, line: line, filename: named, firstLine: first.line),
                    sameLabel
                        ? "also listed on line \(first.line); this row is left out"
                        : "also listed on line \(first.line) as '\(first.category)', here as '\(category)'")
                continue
            }
            firstRowOfFile[filename] = (line, category)
            func mislabelled(_ detail: String) {
                fail(.labelMismatch, .mislabelled(file, line: line, filename: named, detail: detail), detail)
            }
            if let known = targetOfCategory[category], known.target != target {
                mislabelled("category '\(category)' has \(columns.target) \(target) here but \(known.target) on line \(known.line)")
                continue
            }
            if let known = categoryOfTarget[target], known.category != category {
                mislabelled("\(columns.target) \(target) is '\(category)' here but '\(known.category)' on line \(known.line)")
                continue
            }
            if let encoded = Self.targetEncoded(in: named, columns: columns), encoded != target {
                mislabelled("the file name encodes \(columns.target) \(encoded), the row says \(target) ('\(category)')")
                continue
            }
            targetOfCategory[category] = targetOfCategory[category] ?? (target, line)
            categoryOfTarget[target] = categoryOfTarget[target] ?? (category, line)

            records.append(
                ClipRecord(
                    filename: filename, fold: fold, target: target, category: category, isESC10: isESC10,
                    sourceFile: sourceColumn.map(field) ?? "", take: takeColumn.map(field) ?? "", csvLine: line))
        }
        guard !table.rows.isEmpty else { throw .noClips("\(file.path) has a header but no rows") }
        return (records, issues)
    }

    /// The class index a conventionally named file carries (`1-100038-A-14.wav` -> 14 in
    /// ESC-50, `100032-3-0-0.wav` -> 3 in UrbanSound8K), or `nil` for any other name.
    static func targetEncoded(in name: String, columns: MetadataColumns) -> Int? {
        let stem = (name as NSString).deletingPathExtension
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == columns.targetInName.parts,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else { return nil }
        if columns.inFoldFolders {
            // fsID-classID-occurrenceID-sliceID: all numbers.
            guard parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
        } else {
            // fold-source-take-target: the take is letters.
            guard parts[0].allSatisfy(\.isNumber), parts[2].allSatisfy(\.isLetter), parts[3].allSatisfy(\.isNumber) else {
                return nil
            }
        }
        return Int(parts[columns.targetInName.part])
    }
}
