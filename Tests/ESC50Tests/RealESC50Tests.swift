import AudioDSP
import ESC50
import _TestSupport
import XCTest

/// The metadata and loader on the real ESC-50 clips in `../shared/esc50` (FLAC, folds 1-4).
/// Class lists are checked against Python's `sorted(...)` of the same CSV (real_classes.json).
final class RealESC50Tests: XCTestCase {
    private struct Reference: Decodable {
        var all: [String]
        var esc10: [String]
        var fold4: Int
        var esc10PerFold: [String: Int]
    }

    private func dataset() throws -> SoundDataset {
        guard let root = Fixtures.esc50Directory else {
            throw XCTSkip("the real ESC-50 clips are not at ../shared/esc50 (set ESC50_DIR to point at them)")
        }
        return try SoundDataset(directory: root)
    }

    private func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Fixtures.url("ESC50", "real_classes.json")))
    }

    func testFoldCountsAndClassOrder() throws {
        let data = try dataset()
        let reference = try reference()
        XCTAssertEqual(data.classes, reference.all)
        XCTAssertEqual(data.classes.count, 50)
        let fold4 = try data.clips(inFolds: [4])
        XCTAssertEqual(fold4.count, 400)
        XCTAssertEqual(fold4.count, reference.fold4)
        for category in data.classes {
            XCTAssertEqual(fold4.filter { $0.category == category }.count, 8, category)
        }
        // Every file name follows {fold}-{src_file}-{take}-{target}.flac, agreeing with its row.
        for clip in data.clips {
            XCTAssertEqual(clip.filename, "\(clip.fold)-\(clip.sourceFile)-\(clip.take)-\(clip.target).flac")
        }
    }

    func testESC10Subset() throws {
        let esc10 = try dataset().esc10Subset()
        let reference = try reference()
        XCTAssertEqual(esc10.classes, reference.esc10)
        XCTAssertEqual(esc10.clips.count, 320)
        XCTAssertEqual(esc10.folds, [1, 2, 3, 4])
        for fold in 1...4 {
            let clips = try esc10.clips(inFolds: [fold])
            XCTAssertEqual(clips.count, reference.esc10PerFold["\(fold)"])
            for category in esc10.classes {
                XCTAssertEqual(clips.filter { $0.category == category }.count, 8, "fold \(fold) \(category)")
            }
        }
        let split = try esc10.split(validationFolds: [4], trainFolds: [1, 2, 3])
        XCTAssertEqual(split.train.count, 240)
        XCTAssertEqual(split.validation.count, 80)
        let items = try esc10.loaderItems(split.train)
        XCTAssertEqual(Set(items.map(\.label)), Set(0..<10))
        XCTAssertEqual(items.first.map { esc10.classes[$0.label] }, split.train.first?.category)
    }

    func testSourceSplitOfOneFoldKeepsTakesTogether() throws {
        let data = try dataset()
        let fold4 = try data.clips(inFolds: [4])
        let split = try data.sourceSplit(fold4, validationFraction: 0.25, seed: 0)
        XCTAssertTrue(Set(split.train.map(\.sourceFile)).isDisjoint(with: split.validation.map(\.sourceFile)))
        XCTAssertEqual(split.train.count + split.validation.count, 400)
        XCTAssertEqual(Double(split.validation.count) / 400, 0.25, accuracy: 0.05)
        XCTAssertEqual(Set(split.train.map(\.category)).count, 50, "every class keeps training clips")
    }

    /// The loader opens what the CSV names (FLAC here) and yields the reference shape.
    func testESC10ClipsDecodeAndGiveReferenceShapedBatches() throws {
        let esc10 = try dataset().esc10Subset()
        let clips = try esc10.clips(inFolds: [4])
        let loader = try ClipLoader()
        for clip in clips {
            let samples = try loader.load(esc10.audioURL(for: clip))
            XCTAssertEqual(samples.count, 220_500, clip.filename)
        }
        let features = try LogMelFeatures()
        // The reference front-end on 5 s at 44.1 kHz: 128 Mel bands x 431 frames.
        XCTAssertEqual(features.shape, FeatureShape(mels: 128, frames: 431))
        let batches = try DataLoader(
            items: esc10.loaderItems(Array(clips.prefix(6))), source: features,
            configuration: .init(batchSize: 4, workers: 2))
        let epoch = batches.epoch(0)
        let first = try XCTUnwrap(try epoch.next())
        XCTAssertEqual(first.shape, [4, 1, 128, 431])
        XCTAssertTrue(first.features.allSatisfy(\.isFinite))
        XCTAssertEqual(try XCTUnwrap(try epoch.next()).shape, [2, 1, 128, 431])
        XCTAssertNil(try epoch.next())
    }
}
