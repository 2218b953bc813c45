import AudioDSP
@testable import ESC50
import XCTest

final class FeatureCacheTests: XCTestCase {
    /// Clips written to disk (the cache hashes their bytes), served by a counting source.
    private func clips(_ folder: URL, count: Int) throws -> [LoaderItem] {
        try (0..<count).map { i in
            let url = folder.appendingPathComponent("\(i).wav")
            try TestWAV.write(url, channels: [TestWAV.tone(seed: i, count: 100, sampleRate: 8000)], sampleRate: 8000)
            return LoaderItem(url: url, label: i % 2)
        }
    }

    func testSecondPassIsServedFromDiskAndEditsInvalidate() throws {
        let folder = try temporaryFolder(self)
        let items = try clips(folder, count: 6)
        let cache = try FeatureCache(directory: folder.appendingPathComponent("cache"))
        let base = CountingSource()
        let cached = CachedFeatureSource(base: base, identity: "test-v1", cache: cache)
        let first = try items.map(cached.features(of:))
        XCTAssertEqual(base.callCount, 6)
        // A new instance (as in a new process) finds the entries on disk.
        let again = CachedFeatureSource(base: base, identity: "test-v1", cache: cache)
        XCTAssertEqual(try items.map(again.features(of:)), first)
        XCTAssertEqual(base.callCount, 6)
        // Editing a clip's content changes its key; the others still hit.
        try TestWAV.write(items[2].url, channels: [TestWAV.tone(seed: 99, count: 120, sampleRate: 8000)], sampleRate: 8000)
        _ = try items.map(again.features(of:))
        XCTAssertEqual(base.callCount, 7)
        XCTAssertEqual(base.calledURLs.last, items[2].url)
        // Another identity (another Mel configuration) never reuses entries.
        let other = CachedFeatureSource(base: base, identity: "test-v2", cache: cache)
        _ = try items.map(other.features(of:))
        XCTAssertEqual(base.callCount, 13)
    }

    func testCorruptOrForeignEntriesAreRecomputed() throws {
        let folder = try temporaryFolder(self)
        let items = try clips(folder, count: 2)
        let cache = try FeatureCache(directory: folder.appendingPathComponent("cache"))
        let base = CountingSource()
        let cached = CachedFeatureSource(base: base, identity: "x", cache: cache)
        let expected = try cached.features(of: items[0])
        let entries = FileManager.default.enumerator(at: cache.directory, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "f32" }
        XCTAssertEqual(entries.count, 1)
        try Data(count: 40).write(to: entries[0])  // truncated, wrong magic
        XCTAssertEqual(try cached.features(of: items[0]), expected)
        XCTAssertEqual(base.callCount, 2)
        // An entry of another shape under the same key is not served either.
        let wide = CachedFeatureSource(base: CountingSource(shape: FeatureShape(mels: 4, frames: 7)), identity: "x", cache: cache)
        XCTAssertEqual(try wide.features(of: items[0]).count, 28)
        XCTAssertThrowsError(try cached.features(of: LoaderItem(url: folder.appendingPathComponent("absent.wav"), label: 0))) {
            XCTAssertTrue("\($0)".contains("absent.wav"))
        }
    }

    /// Real audio end to end: WAV clips of a synthetic data set, log-Mel features, cache, batches.
    func testLogMelBatchesFromASyntheticDataSet() throws {
        let data = try SyntheticDataset.make(rows: SyntheticDataset.rows(folds: 2, perClassPerFold: 2), samples: 4000, sampleRate: 8000)
        addTeardownBlock { data.remove() }
        let dataset = try SoundDataset(directory: data.root)
        let split = try dataset.split(validationFolds: [2])
        var config = MelConfig()
        config.sampleRate = 16_000
        config.nFFT = 512
        config.hopLength = 256
        config.melCount = 32
        let logMel = try LogMelFeatures(config: config, duration: 0.5)
        let cache = try FeatureCache(directory: data.root.appendingPathComponent("cache"))
        let source = CachedFeatureSource(base: logMel, identity: logMel.cacheIdentity, cache: cache)
        let loader = try DataLoader(
            items: try dataset.loaderItems(split.train), source: source,
            configuration: .init(batchSize: 3, shuffle: true, seed: 1))
        let first = try drainAll(loader.epoch(0))
        // 8 training clips (4 classes x 2 in fold 1); 0.5 s at 16 kHz = 8000 samples -> 1 + 8000/256 frames.
        XCTAssertEqual(first.map { $0.shape }, [[3, 1, 32, 32], [3, 1, 32, 32], [2, 1, 32, 32]])
        XCTAssertEqual(first.flatMap(\.labels).sorted(), split.train.map { dataset.classIndex(of: $0.category)! }.sorted())
        let batch = first[0]
        XCTAssertTrue(batch.features.allSatisfy(\.isFinite))
        // The second epoch reads the cache and yields the same features per item.
        let second = try drainAll(loader.epoch(1))
        var byItem: [Int: ArraySlice<Float>] = [:]
        for b in first { for (slot, i) in b.itemIndices.enumerated() { byItem[i] = b.features[slot * 1024..<(slot + 1) * 1024] } }
        for b in second {
            for (slot, i) in b.itemIndices.enumerated() { XCTAssertEqual(byItem[i], b.features[slot * 1024..<(slot + 1) * 1024]) }
        }
    }

    private func drainAll(_ epoch: EpochBatches) throws -> [Batch] {
        var out: [Batch] = []
        while let b = try epoch.next() { out.append(b) }
        return out
    }
}
