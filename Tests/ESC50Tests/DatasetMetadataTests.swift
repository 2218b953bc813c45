import ESC50
import XCTest

/// The metadata reader on small data sets in the ESC-50 layout written by the tests.
final class DatasetMetadataTests: XCTestCase {
    private func make(rows: [SyntheticDataset.Row] = SyntheticDataset.rows(), csv: String? = nil) throws -> SyntheticDataset {
        let data = try SyntheticDataset.make(rows: rows, csvText: csv, samples: 80)
        addTeardownBlock { data.remove() }
        return data
    }

    /// Asserts that reading `csv` fails with an error equal to `expected(csvURL)`.
    private func assertFails(
        csv: String, rows: [SyntheticDataset.Row] = SyntheticDataset.rows(),
        _ expected: (URL) -> ESC50Error, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let data = try make(rows: rows, csv: csv)
        XCTAssertThrowsError(try SoundDataset(directory: data.root), file: file, line: line) { error in
            XCTAssertEqual(error as? ESC50Error, expected(data.csvURL), file: file, line: line)
            XCTAssertTrue("\(error)".contains(data.csvURL.path), "message names the CSV: \(error)", file: file, line: line)
        }
    }

    func testReadsRowsClassesAndFolds() throws {
        let data = try make()
        let dataset = try SoundDataset(directory: data.root)
        XCTAssertEqual(dataset.clips.count, 4 * 3 * 2)
        XCTAssertEqual(dataset.classes, ["airplane", "chainsaw", "dog", "rain"])
        XCTAssertEqual(dataset.folds, [1, 2, 3])
        let first = dataset.clips[0]
        XCTAssertEqual(first.filename, "1-1010-A-0.wav")
        XCTAssertEqual(first.category, "dog")
        XCTAssertEqual(first.target, 0)
        XCTAssertEqual(first.csvLine, 2)
        XCTAssertEqual(first.sourceFile, "1010")
        XCTAssertEqual(first.take, "A")
        XCTAssertTrue(first.isESC10)
        // Labels come from the sorted class list, not from the CSV's target column.
        XCTAssertEqual(dataset.classIndex(of: "dog"), 2)
        XCTAssertEqual(dataset.classIndex(of: "airplane"), 0)
        XCTAssertNil(dataset.classIndex(of: "cat"))
        XCTAssertEqual(dataset.audioURL(for: first).path, data.root.appendingPathComponent("audio/1-1010-A-0.wav").path)
        let items = try dataset.loaderItems(dataset.clips)
        XCTAssertEqual(items[0].label, 2)
        XCTAssertEqual(items[0].origin, "esc50.csv:2")
    }

    func testClassListSortsByUnicodeScalarsLikePython() throws {
        // Python's sorted() orders by code point: uppercase before lowercase, '_' after 'Z'.
        let names = ["dog", "Dog", "dog_bark", "do", "Zebra", "_x", "éclair", "ant"]
        let rows = names.enumerated().map { (i, name) -> SyntheticDataset.Row in
            ("\(i).wav", 1, i, name, false, "\(i)", "A")
        }
        let dataset = try SoundDataset(directory: try make(rows: rows).root)
        XCTAssertEqual(dataset.classes, ["Dog", "Zebra", "_x", "ant", "do", "dog", "dog_bark", "éclair"])
    }

    func testAcceptsBOMCRLFQuotesExtraColumnsAndAnyColumnOrder() throws {
        let rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 1)
        var csv = "\u{FEFF}take,\"category\",notes,target,src_file,filename,esc10,fold\r\n"
        for r in rows {
            csv +=
                "\(r.take),\"\(r.category)\",\"free text, with \"\"quotes\"\"\",\(r.target),\(r.source),\"\(r.filename)\",\(r.esc10 ? "True" : "False"),\(r.fold)\r\n"
        }
        let dataset = try SoundDataset(directory: try make(rows: rows, csv: csv).root)
        let plain = try SoundDataset(directory: try make(rows: rows).root)
        XCTAssertEqual(dataset.clips.map(\.filename), plain.clips.map(\.filename))
        XCTAssertEqual(dataset.clips.map(\.category), plain.clips.map(\.category))
        XCTAssertEqual(dataset.clips.map(\.fold), plain.clips.map(\.fold))
        XCTAssertEqual(dataset.clips.map(\.isESC10), plain.clips.map(\.isESC10))
        XCTAssertEqual(dataset.clips.map(\.sourceFile), plain.clips.map(\.sourceFile))
        XCTAssertEqual(dataset.classes, plain.classes)
    }

    func testOptionalColumnsMayBeAbsent() throws {
        let rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 1)
        let csv =
            "filename,fold,target,category\n" + rows.map { "\($0.filename),\($0.fold),\($0.target),\($0.category)" }.joined(separator: "\n")
        let dataset = try SoundDataset(directory: try make(rows: rows, csv: csv).root)
        XCTAssertEqual(dataset.clips.count, rows.count)
        XCTAssertTrue(dataset.clips.allSatisfy { !$0.isESC10 && $0.sourceFile.isEmpty })
        XCTAssertThrowsError(try dataset.esc10Subset()) { XCTAssertTrue("\($0)".contains("esc10")) }
    }

    func testESC10SubsetHasItsOwnClassList() throws {
        let dataset = try SoundDataset(directory: try make().root)
        let esc10 = try dataset.esc10Subset()
        XCTAssertEqual(esc10.classes, ["chainsaw", "dog"])
        XCTAssertEqual(esc10.clips.count, 2 * 3 * 2)
        XCTAssertEqual(esc10.classIndex(of: "dog"), 1)
    }

    func testFoldSelectionAndErrors() throws {
        let dataset = try SoundDataset(directory: try make().root)
        let split = try dataset.split(validationFolds: [3])
        XCTAssertEqual(Set(split.validation.map(\.fold)), [3])
        XCTAssertEqual(Set(split.train.map(\.fold)), [1, 2])
        XCTAssertEqual(split.train.count + split.validation.count, dataset.clips.count)
        let partial = try dataset.split(validationFolds: [3], trainFolds: [1])
        XCTAssertEqual(Set(partial.train.map(\.fold)), [1])
        XCTAssertThrowsError(try dataset.split(validationFolds: [5])) { error in
            guard case .invalidSelection(let detail) = error as? ESC50Error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("fold 5"), detail)
        }
        XCTAssertThrowsError(try dataset.split(validationFolds: [2], trainFolds: [1, 2]))
        XCTAssertThrowsError(try dataset.split(validationFolds: [1, 2, 3]))  // nothing left to train on
    }

    func testSourceSplitKeepsRecordingsTogetherAndIsDeterministic() throws {
        let rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 8)
        let dataset = try SoundDataset(directory: try make(rows: rows).root)
        let a = try dataset.sourceSplit(dataset.clips, validationFraction: 0.25, seed: 42)
        let b = try dataset.sourceSplit(dataset.clips, validationFraction: 0.25, seed: 42)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.train.count + a.validation.count, dataset.clips.count)
        XCTAssertTrue(Set(a.train.map(\.sourceFile)).isDisjoint(with: a.validation.map(\.sourceFile)))
        // Stratified: each class holds out 2 of its 8 clips (one recording of two takes).
        for category in dataset.classes {
            XCTAssertEqual(a.validation.filter { $0.category == category }.count, 2, category)
        }
        // Reversing the CSV order does not change which recordings are held out.
        let reversed = try dataset.sourceSplit(dataset.clips.reversed(), validationFraction: 0.25, seed: 42)
        XCTAssertEqual(Set(reversed.validation.map(\.filename)), Set(a.validation.map(\.filename)))
        // Another seed holds out other recordings.
        let other = try dataset.sourceSplit(dataset.clips, validationFraction: 0.25, seed: 7)
        XCTAssertNotEqual(Set(other.validation.map(\.filename)), Set(a.validation.map(\.filename)))
        XCTAssertThrowsError(try dataset.sourceSplit(dataset.clips, validationFraction: 1.5, seed: 1))
        XCTAssertThrowsError(try dataset.sourceSplit(dataset.clips, validationFraction: 0.01, seed: 1))
    }

    // MARK: - Error paths: each names the file and the CSV line.

    func testMissingMetadata() throws {
        let folder = try temporaryFolder(self)
        XCTAssertThrowsError(try SoundDataset(directory: folder, layout: .esc50)) { error in
            XCTAssertEqual(error as? ESC50Error, .metadataNotFound(folder.appendingPathComponent("meta/esc50.csv")))
        }
    }

    func testMissingColumn() throws {
        let rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 1)
        let csv = "filename,fold,category\n" + rows.map { "\($0.filename),1,\($0.category)" }.joined(separator: "\n")
        try assertFails(csv: csv, rows: rows) { .missingColumn($0, column: "target", header: ["filename", "fold", "category"]) }
    }

    func testBadFold() throws {
        var csv = SyntheticDataset.csv(SyntheticDataset.rows())
        csv = csv.replacingOccurrences(of: "\n1-1010-B-0.wav,1,", with: "\n1-1010-B-0.wav,zero,")
        try assertFails(csv: csv) { .invalidValue($0, line: 3, column: "fold", value: "zero", expected: "an integer >= 1") }
        let negative = SyntheticDataset.csv(SyntheticDataset.rows()).replacingOccurrences(
            of: "\n1-1010-B-0.wav,1,", with: "\n1-1010-B-0.wav,0,")
        try assertFails(csv: negative) { .invalidValue($0, line: 3, column: "fold", value: "0", expected: "an integer >= 1") }
    }

    func testBadTargetAndEsc10() throws {
        let csv = SyntheticDataset.csv(SyntheticDataset.rows()).replacingOccurrences(
            of: "1-1010-B-0.wav,1,0,", with: "1-1010-B-0.wav,1,-3,")
        try assertFails(csv: csv) { .invalidValue($0, line: 3, column: "target", value: "-3", expected: "an integer >= 0") }
        let esc = SyntheticDataset.csv(SyntheticDataset.rows()).replacingOccurrences(
            of: "1-1010-B-0.wav,1,0,dog,True", with: "1-1010-B-0.wav,1,0,dog,maybe")
        try assertFails(csv: esc) { .invalidValue($0, line: 3, column: "esc10", value: "maybe", expected: "True or False") }
    }

    func testMislabelledTargetOrCategory() throws {
        var rows = SyntheticDataset.rows()
        // Row 6 (CSV line 7) is a 'chainsaw' clip; give it the target of 'dog'.
        XCTAssertEqual(rows[5].category, "chainsaw")
        rows[5].target = 0
        try assertFails(csv: SyntheticDataset.csv(rows), rows: rows) {
            .mislabelled(
                $0, line: 7, filename: rows[5].filename,
                detail: "category 'chainsaw' has target 0 here but 2 on line 6")
        }
        var relabelled = SyntheticDataset.rows()
        relabelled[3].category = "cat"  // a target-1 clip under a new name
        try assertFails(csv: SyntheticDataset.csv(relabelled), rows: SyntheticDataset.rows()) {
            .mislabelled(
                $0, line: 5, filename: relabelled[3].filename,
                detail: "target 1 is 'cat' here but 'rain' on line 4")
        }
        var renamed = SyntheticDataset.rows()
        renamed[3].target = 9  // a 'rain' clip (target 1) with a target no other row has
        XCTAssertEqual(renamed[3].category, "rain")
        try assertFails(csv: SyntheticDataset.csv(renamed), rows: renamed) {
            .mislabelled(
                $0, line: 5, filename: renamed[3].filename,
                detail: "category 'rain' has target 9 here but 1 on line 4")
        }
    }

    func testDuplicateFilename() throws {
        var rows = SyntheticDataset.rows()
        rows[4].filename = rows[1].filename
        rows[4].category = rows[1].category
        rows[4].target = rows[1].target
        try assertFails(csv: SyntheticDataset.csv(rows), rows: Array(rows[0..<4])) {
            .duplicateFilename($0, line: 6, filename: rows[1].filename, firstLine: 3)
        }
    }

    func testMissingClip() throws {
        var rows = SyntheticDataset.rows()
        let data = try make(rows: rows)
        rows.append(("9-9999-A-1.wav", 1, 1, "rain", false, "9999", "A"))
        try data.writeCSV(SyntheticDataset.csv(rows))
        XCTAssertThrowsError(try SoundDataset(directory: data.root)) { error in
            XCTAssertEqual(
                error as? ESC50Error,
                .missingClip(data.csvURL, line: rows.count + 1, clip: data.audio.appendingPathComponent("9-9999-A-1.wav")))
            XCTAssertTrue("\(error)".contains("9-9999-A-1.wav"))
        }
        // Without the file check the metadata alone is read.
        XCTAssertEqual(try SoundDataset(directory: data.root, checkFiles: .none).clips.count, rows.count)
    }

    func testPathTraversalAndEmptyFilenamesAreRejected() throws {
        for bad in ["../etc/passwd", "/abs.wav", "a//b.wav", ""] {
            var rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 1)
            let good = rows[1].filename
            rows[1].filename = bad
            let csv = SyntheticDataset.csv(rows)
            var clean = rows
            clean[1].filename = good
            try assertFails(csv: csv, rows: clean) {
                .invalidValue(
                    $0, line: 3, column: "filename", value: bad,
                    expected: "a file name relative to audio/ (no '..', no leading '/')")
            }
        }
    }

    func testShortRowAndMalformedCSVAndEmptyData() throws {
        let rows = SyntheticDataset.rows(folds: 1, perClassPerFold: 1)
        try assertFails(csv: "filename,fold,target,category,esc10,src_file,take\nx.wav,1,0\n", rows: rows) {
            .shortRow($0, line: 2, expected: 7, found: 3)
        }
        try assertFails(csv: "filename,fold,target,category\n\"x.wav,1,0,dog\n", rows: rows) {
            .malformedCSV($0, line: 2, reason: "a quoted field is never closed")
        }
        try assertFails(csv: "filename,fold,target,category\n", rows: rows) {
            .noClips("\($0.path) has a header but no rows")
        }
    }

    func testInvalidUTF8() throws {
        let data = try make()
        try Data([0x66, 0x69, 0xFF, 0xFE, 0x0A]).write(to: data.csvURL)
        XCTAssertThrowsError(try SoundDataset(directory: data.root)) { error in
            XCTAssertEqual(error as? ESC50Error, .unreadableMetadata(data.csvURL, reason: "not valid UTF-8"))
        }
    }

    func testVerifyClipsDecodesEveryClipAndNamesTheFirstBadOne() throws {
        let rows = SyntheticDataset.rows()
        let data = try make(rows: rows)
        let dataset = try SoundDataset(directory: data.root)
        try dataset.verifyClips()
        for index in [9, 3] {
            try Data("RIFF but not really".utf8).write(to: data.audio.appendingPathComponent(rows[index].filename))
        }
        XCTAssertThrowsError(try dataset.verifyClips()) { error in
            guard case .unreadableClip(let csv, let line, let clip, _) = error as? ESC50Error else { return XCTFail("\(error)") }
            XCTAssertEqual(csv, data.csvURL)
            XCTAssertEqual(line, 5, "the first bad clip in CSV order, whatever the thread timing")
            XCTAssertEqual(clip.lastPathComponent, rows[3].filename)
        }
    }
}
