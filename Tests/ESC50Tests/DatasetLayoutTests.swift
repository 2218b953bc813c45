import AudioDSP
import ESC50
import Foundation
import XCTest
import _TestSupport

/// The three layouts (ESC-50, UrbanSound8K, class folders) on small generated data sets, and
/// `verify` on a messy one: every problem listed at once, none silently turned into silence.
final class DatasetLayoutTests: XCTestCase {
    private func folder() throws -> URL { try temporaryFolder(self) }

    private func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// A 16-bit mono tone of `seconds` at `rate`.
    private func tone(_ frequency: Double, seconds: Double, rate: Int) -> Data {
        let n = Int(seconds * Double(rate))
        return WAV.pcm16([(0..<n).map { Int16(12000 * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }], sampleRate: rate)
    }

    // MARK: - UrbanSound8K

    /// UrbanSound8K's odd formats: 8-bit unsigned, 24-bit, stereo, 8 kHz and 96 kHz, under 1 s.
    private func makeUrbanSound8K() throws -> URL {
        let root = try folder()
        var csv = "slice_file_name,fsID,start,end,salience,fold,classID,class\n"
        func add(_ name: String, fold: Int, classID: Int, _ className: String, _ data: Data) throws {
            try write(data, to: root.appendingPathComponent("audio/fold\(fold)/\(name)"))
            csv += "\(name),\(name.split(separator: "-")[0]),0,1,1,\(fold),\(classID),\(className)\n"
        }
        // 8-bit WAV is unsigned: 128 is zero. A square wave of +-64 -> +-0.5.
        let eightBit = WAV.file(
            channels: 1, sampleRate: 22_050, bitsPerSample: 8, payload: (0..<11_025).map { $0 / 50 % 2 == 0 ? 192 : 64 })
        // 24-bit little-endian: 0x200000 = 2^21 -> 0.25.
        let twentyFour = WAV.file(
            channels: 1, sampleRate: 48_000, bitsPerSample: 24, payload: (0..<24_000).flatMap { _ in [0x00, 0x00, 0x20] as [UInt8] })
        let stereo = WAV.pcm16([[Int16](repeating: 16_384, count: 44_100), [Int16](repeating: -8192, count: 44_100)], sampleRate: 44_100)
        for fold in 1...3 {
            try add("10\(fold)-3-0-0.wav", fold: fold, classID: 3, "dog_bark", fold == 1 ? eightBit : tone(440, seconds: 0.5, rate: 8000))
            try add(
                "20\(fold)-1-0-0.wav", fold: fold, classID: 1, "car_horn", fold == 1 ? twentyFour : tone(1000, seconds: 4, rate: 96_000))
            try add(
                "30\(fold)-9-0-0.wav", fold: fold, classID: 9, "street_music", fold == 1 ? stereo : tone(300, seconds: 0.9, rate: 16_000))
        }
        try write(Data(csv.utf8), to: root.appendingPathComponent("metadata/UrbanSound8K.csv"))
        return root
    }

    func testUrbanSound8KLayoutIsDetectedAndItsOddFormatsLoad() throws {
        let root = try makeUrbanSound8K()
        XCTAssertEqual(try DatasetLayout.detect(in: root), .urbanSound8K)
        let dataset = try SoundDataset(directory: root)
        XCTAssertEqual(dataset.layout, .urbanSound8K)
        XCTAssertEqual(dataset.classes, ["car_horn", "dog_bark", "street_music"])
        XCTAssertEqual(dataset.folds, [1, 2, 3])
        XCTAssertEqual(dataset.clips.count, 9)
        let first = dataset.clips[0]
        XCTAssertEqual(first.filename, "fold1/101-3-0-0.wav")
        XCTAssertEqual(first.target, 3)
        XCTAssertEqual(first.sourceFile, "101")
        XCTAssertEqual(dataset.audioURL(for: first).path, root.appendingPathComponent("audio/fold1/101-3-0-0.wav").path)
        XCTAssertEqual(try dataset.loaderItems([first])[0].origin, "UrbanSound8K.csv:2")

        let report = dataset.verify()
        XCTAssertEqual(report.problems, [], "\(report)")

        // Every clip loads to exactly 4 s at 44.1 kHz; the independent values of each format survive.
        let loader = try ClipLoader(sampleRate: 44_100, duration: 4)
        for clip in dataset.clips {
            XCTAssertEqual(try loader.load(dataset.audioURL(for: clip)).count, 176_400, clip.filename)
        }
        let eightBit = try AudioFile(contentsOf: dataset.audioURL(for: dataset.clips[0]))
        XCTAssertEqual(eightBit.samples[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(eightBit.samples[50], -0.5, accuracy: 1e-6)
        let twentyFour = try AudioFile(contentsOf: dataset.audioURL(for: dataset.clips[1]))
        XCTAssertEqual(twentyFour.samples[100], 0.25, accuracy: 1e-6)
        let stereo = try AudioFile(contentsOf: dataset.audioURL(for: dataset.clips[2]))
        XCTAssertEqual(stereo.sourceChannelCount, 2)
        XCTAssertEqual(stereo.samples[10], (0.5 - 0.25) / 2, accuracy: 1e-6)
        // An 8 kHz tone of 440 Hz resampled to 44.1 kHz keeps its pitch: count zero crossings
        // over the 0.5 s it lasts (the rest is padding).
        let resampled = try loader.load(dataset.audioURL(for: dataset.clips[3]))
        let voiced = Array(resampled[2000..<20_000])
        let crossings = zip(voiced, voiced.dropFirst()).count { $0 < 0 && $1 >= 0 }
        XCTAssertEqual(Double(crossings) / (Double(voiced.count) / 44_100), 440, accuracy: 6)
        XCTAssertEqual(resampled[30_000..<176_400].max(), 0, "padded with silence after 0.5 s")
    }

    func testUrbanSound8KClassInFileNameMustMatchTheRow() throws {
        let root = try makeUrbanSound8K()
        let csvURL = root.appendingPathComponent("metadata/UrbanSound8K.csv")
        var text = try String(contentsOf: csvURL, encoding: .utf8)
        // The file name says class 3 (dog_bark); the row says 1 (car_horn).
        text += "104-3-0-0.wav,104,0,1,1,2,1,car_horn\n"
        try text.write(to: csvURL, atomically: true, encoding: .utf8)
        try write(tone(500, seconds: 1, rate: 8000), to: root.appendingPathComponent("audio/fold2/104-3-0-0.wav"))
        XCTAssertThrowsError(try SoundDataset(directory: root)) { error in
            guard case .mislabelled(_, let line, let name, let detail) = error as? ESC50Error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 11)
            XCTAssertEqual(name, "104-3-0-0.wav")
            XCTAssertTrue(detail.contains("encodes classID 3"), detail)
        }
        let lenient = try SoundDataset(directory: root, invalidRows: .skip)
        XCTAssertEqual(lenient.clips.count, 9)
        XCTAssertEqual(lenient.problems.map(\.kind), [.labelMismatch])
        XCTAssertEqual(lenient.problems[0].line, 11)
    }

    // MARK: - Class folders

    private func makeFolders(classes: [String: Int], under prefix: String = "") throws -> URL {
        let root = try folder()
        for (name, count) in classes {
            for i in 0..<count {
                try write(
                    tone(200 + Double(i) * 10, seconds: 0.2, rate: 16_000),
                    to: root.appendingPathComponent("\(prefix)\(name)/clip \(i).wav"))
            }
        }
        return root
    }

    func testClassFoldersGetAStratifiedSeededSplit() throws {
        let root = try makeFolders(classes: ["dog": 10, "rain": 10, "cat": 7])
        try write(Data("notes".utf8), to: root.appendingPathComponent("dog/README.txt"))
        try write(Data("hidden".utf8), to: root.appendingPathComponent("dog/.DS_Store"))
        try write(Data("top".utf8), to: root.appendingPathComponent("LICENSE"))
        XCTAssertEqual(try DatasetLayout.detect(in: root), .folders)

        let dataset = try SoundDataset(directory: root)
        XCTAssertEqual(dataset.layout, .folders)
        XCTAssertEqual(dataset.classes, ["cat", "dog", "rain"])
        XCTAssertEqual(dataset.clips.count, 27)
        XCTAssertEqual(dataset.folds, [1, 2, 3, 4, 5], "5 folds by default, so --val-fold 5 works")
        XCTAssertEqual(dataset.clips[0].filename, "cat/clip 0.wav")
        XCTAssertEqual(dataset.clips[0].csvLine, 0)
        XCTAssertEqual(try dataset.loaderItems([dataset.clips[0]])[0].origin, "cat/clip 0.wav")
        XCTAssertEqual(dataset.audioURL(for: dataset.clips[0]).path, root.appendingPathComponent("cat/clip 0.wav").path)
        // Stratified: each class spreads evenly; fold sizes differ by at most one.
        for category in dataset.classes {
            let perFold = Dictionary(grouping: dataset.clips.filter { $0.category == category }, by: \.fold).mapValues(\.count)
            XCTAssertLessThanOrEqual(perFold.values.max()! - perFold.values.min()!, 1, "\(category): \(perFold)")
            XCTAssertEqual(perFold.count, 5, category)
        }
        let sizes = Dictionary(grouping: dataset.clips, by: \.fold).mapValues(\.count).values
        XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
        // The non-audio files are listed as ignored (warnings), hidden ones not at all.
        XCTAssertEqual(dataset.problems.map(\.file), ["LICENSE", "dog/README.txt"])
        XCTAssertTrue(dataset.problems.allSatisfy { $0.kind == .ignoredFile && $0.severity == .warning })

        // The same seed gives the same folds; another seed others; --folds 3 numbers 1...3.
        let again = try SoundDataset(directory: root)
        XCTAssertEqual(again.clips, dataset.clips)
        let other = try SoundDataset(directory: root, folderSplit: FolderSplit(folds: 5, seed: 99))
        XCTAssertNotEqual(other.clips.map(\.fold), dataset.clips.map(\.fold))
        XCTAssertEqual(try SoundDataset(directory: root, folderSplit: FolderSplit(folds: 3)).folds, [1, 2, 3])
        XCTAssertThrowsError(try SoundDataset(directory: root, folderSplit: FolderSplit(folds: 1)))

        let split = try dataset.split(validationFolds: [5])
        XCTAssertEqual(split.train.count + split.validation.count, 27)
        XCTAssertEqual(Set(split.validation.map(\.category)).count, 3)
    }

    func testFoldFoldersAndSymbolicLinksAreFollowed() throws {
        let root = try folder()
        let elsewhere = try folder()
        for fold in 1...2 {
            for name in ["bird", "frog"] where !(fold == 2 && name == "bird") {
                try write(tone(400, seconds: 0.3, rate: 8000), to: root.appendingPathComponent("fold\(fold)/\(name)/a.flac.wav"))
            }
        }
        // fold2/bird is a link to a folder elsewhere, holding a nested folder and a link to a file.
        try write(tone(400, seconds: 0.3, rate: 8000), to: elsewhere.appendingPathComponent("birds/nested/b.wav"))
        try write(tone(400, seconds: 0.3, rate: 8000), to: elsewhere.appendingPathComponent("c.wav"))
        try FileManager.default.createSymbolicLink(
            at: elsewhere.appendingPathComponent("birds/c-link.wav"), withDestinationURL: elsewhere.appendingPathComponent("c.wav"))
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("fold2/bird"), withDestinationURL: elsewhere.appendingPathComponent("birds"))

        let dataset = try SoundDataset(directory: root)
        XCTAssertEqual(dataset.folds, [1, 2])
        XCTAssertEqual(
            dataset.clips.map { "\($0.fold) \($0.category) \($0.filename)" },
            [
                "1 bird fold1/bird/a.flac.wav", "2 bird fold2/bird/c-link.wav", "2 bird fold2/bird/nested/b.wav",
                "1 frog fold1/frog/a.flac.wav", "2 frog fold2/frog/a.flac.wav",
            ])
        XCTAssertEqual(dataset.verify(validationFold: 2).problems, [])
    }

    func testAFolderThatIsNoDataSetSaysWhatWasExpected() throws {
        let root = try folder()
        try write(Data("x".utf8), to: root.appendingPathComponent("readme.txt"))
        XCTAssertThrowsError(try SoundDataset(directory: root)) { error in
            XCTAssertEqual(error as? ESC50Error, .unknownLayout(root))
            XCTAssertTrue("\(error)".contains("meta/esc50.csv"), "\(error)")
        }
        XCTAssertThrowsError(try SoundDataset(directory: root, layout: .esc50)) { error in
            XCTAssertEqual(error as? ESC50Error, .metadataNotFound(root.appendingPathComponent("meta/esc50.csv")))
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try SoundDataset(directory: root)) { error in
            guard case .noClips = error as? ESC50Error else { return XCTFail("\(error)") }
        }
    }

    // MARK: - Verify on a messy data set

    /// An ESC-50-layout set with every kind of problem: rows naming missing files, a file name
    /// with a space (fine), four valid-header WAVs with zero samples, a 0-byte file, a text file
    /// called .wav, a too-short clip, a NaN sample, a duplicate row and a label mismatch.
    private func makeMessy() throws -> (data: SyntheticDataset, duplicate: String, conflicting: String) {
        var rows = SyntheticDataset.rows(folds: 2, perClassPerFold: 2)
        rows[0].filename = "dog bark 1.wav"
        let data = try SyntheticDataset.make(rows: rows, samples: 4000, sampleRate: 8000)
        addTeardownBlock { data.remove() }
        var extra = rows
        func add(_ name: String, fold: Int = 1, target: Int = 0, category: String = "dog", _ content: Data?) throws {
            if let content { try content.write(to: data.audio.appendingPathComponent(name)) }
            extra.append((name, fold, target, category, true, "9\(extra.count)", "A"))
        }
        try add("missing-a.wav", nil)
        try add("missing-b.wav", fold: 2, nil)
        for i in 0..<4 { try add("empty-\(i).wav", WAV.file(channels: 1, sampleRate: 44_100, bitsPerSample: 16, payload: [])) }
        try add("zero-bytes.wav", Data())
        try add("notes.wav", Data("these are my notes, not audio".utf8))
        try add("short.wav", WAV.pcm16([[Int16](repeating: 100, count: 50)], sampleRate: 8000))
        var floats = [Float](repeating: 0.1, count: 4000)
        floats[1234] = .nan
        try add(
            "nan.wav",
            WAV.file(
                formatTag: 3, channels: 1, sampleRate: 8000, bitsPerSample: 32,
                payload: floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
        extra.append(rows[3])  // a duplicate row
        try add("5-555-A-1.wav", target: 0, category: "dog", tone(300, seconds: 0.5, rate: 8000))  // the name says target 1
        var conflicting = rows[4]  // listed again with another class
        (conflicting.category, conflicting.target) = ("dog", 0)
        extra.append(conflicting)
        try tone(300, seconds: 0.5, rate: 8000).write(to: data.audio.appendingPathComponent("stray.wav"))  // in no row
        try Data(SyntheticDataset.csv(extra).utf8).write(to: data.csvURL)
        return (data, rows[3].filename, rows[4].filename)
    }

    func testVerifyListsEveryProblemAtOnce() throws {
        let (data, duplicate, conflicting) = try makeMessy()
        XCTAssertThrowsError(try SoundDataset(directory: data.root), "strict reading still stops at the first")
        let dataset = try SoundDataset(directory: data.root, invalidRows: .skip)
        let report = dataset.verify(validationFold: 2)
        let listed = report.errors.map { "\($0.line ?? 0) \($0.file) \($0.kind.rawValue)" }
        XCTAssertEqual(
            listed,
            [
                "18 missing-a.wav missing file", "19 missing-b.wav missing file",
                "20 empty-0.wav empty file", "21 empty-1.wav empty file", "22 empty-2.wav empty file", "23 empty-3.wav empty file",
                "24 zero-bytes.wav empty file", "25 notes.wav unsupported file", "26 short.wav shorter than one STFT frame",
                "27 nan.wav non-finite samples", "28 \(duplicate) duplicate row", "29 5-555-A-1.wav label mismatch",
                "30 \(conflicting) label mismatch",
            ], "\(report)")
        XCTAssertEqual(report.warnings.map(\.description), ["warning: stray.wav: ignored file: not listed in esc50.csv"])
        // A duplicate with the clip's own label leaves the clip usable; one with another label does not.
        XCTAssertFalse(report.invalidFiles.contains(duplicate))
        XCTAssertTrue(report.invalidFiles.contains(conflicting))
        XCTAssertTrue(report.errors.allSatisfy { $0.metadataFile == "esc50.csv" })
        XCTAssertFalse(report.invalidFiles.contains("dog bark 1.wav"), "a space in a name is fine")
        XCTAssertTrue(report.hasErrors)
        XCTAssertTrue(report.summary.hasPrefix("13 errors (2 missing file, 1 unsupported file, 5 empty file"), report.summary)
        XCTAssertTrue(
            report.description.contains("error: esc50.csv:26: short.wav: shorter than one STFT frame: 50 samples at 8000 Hz"), "\(report)")

        // Training refuses the set with the same list, or skips exactly those clips.
        let kept = dataset.removing(files: report.invalidFiles)
        XCTAssertEqual(Set(kept.clips.map(\.filename)).intersection(report.invalidFiles), [])
        XCTAssertTrue(kept.clips.contains { $0.filename == "dog bark 1.wav" })
    }

    func testClassesAbsentFromAFoldAreWarnings() throws {
        var rows = SyntheticDataset.rows(folds: 3, perClassPerFold: 1)
        rows.removeAll { $0.fold == 3 && $0.category == "rain" }
        rows.removeAll { $0.fold == 2 && $0.category == "dog" }
        let data = try SyntheticDataset.make(rows: rows, samples: 4000, sampleRate: 8000)
        addTeardownBlock { data.remove() }
        let report = try SoundDataset(directory: data.root).verify(validationFold: 3)
        XCTAssertFalse(report.hasErrors)
        XCTAssertEqual(
            report.warnings.map(\.description),
            [
                "warning: class absent from a fold: fold 2 has no usable clip of class 'dog'",
                "warning: class absent from the validation fold: validation fold 3 has no usable clip of class 'rain'",
            ])
    }

    func testAnEmptyClipIsNeverLoadedAsSilence() throws {
        let root = try folder()
        let url = root.appendingPathComponent("empty.wav")
        try WAV.file(channels: 1, sampleRate: 44_100, bitsPerSample: 16, payload: []).write(to: url)
        XCTAssertThrowsError(try ClipLoader().load(url)) { error in
            XCTAssertTrue("\(error)".contains("no samples"), "\(error)")
        }
        let nan = root.appendingPathComponent("nan.wav")
        try WAV.file(
            formatTag: 3, channels: 1, sampleRate: 44_100, bitsPerSample: 32,
            payload: withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian, Array.init)
        )
        .write(to: nan)
        XCTAssertThrowsError(try ClipLoader().load(nan))
    }
}
