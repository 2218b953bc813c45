import AudioDSP
@testable import ESC50
import XCTest

final class DataLoaderTests: XCTestCase {
    private func drain(_ epoch: EpochBatches) throws -> [Batch] {
        var batches: [Batch] = []
        while let batch = try epoch.next() { batches.append(batch) }
        return batches
    }

    func testEachEpochVisitsEveryItemOnceWithItsLabel() throws {
        let source = CountingSource()
        let loader = try DataLoader(
            items: CountingSource.items(23), source: source,
            configuration: .init(batchSize: 5, shuffle: true, seed: 1))
        XCTAssertEqual(loader.batchesPerEpoch, 5)
        let batches = try drain(loader.epoch(0))
        XCTAssertEqual(batches.map(\.count), [5, 5, 5, 5, 3])
        XCTAssertEqual(batches.flatMap(\.itemIndices).sorted(), Array(0..<23))
        XCTAssertNotEqual(batches.flatMap(\.itemIndices), Array(0..<23), "shuffled")
        for batch in batches {
            XCTAssertEqual(batch.shape, [batch.count, 1, 4, 6])
            XCTAssertEqual(batch.features.count, batch.count * 24)
            for (slot, index) in batch.itemIndices.enumerated() {
                XCTAssertEqual(batch.labels[slot], index % 5)
                XCTAssertTrue(batch.features[slot * 24..<(slot + 1) * 24].allSatisfy { $0 == Float(index) })
            }
        }
        XCTAssertEqual(source.callCount, 23)
    }

    /// Three parts of each batch (the ranks of a data-parallel run): together, in rank order,
    /// they are the unsharded batch, augmented alike; sizes differ by at most one, and a last
    /// batch smaller than the parts leaves some empty.
    func testShardsCutEveryBatchIntoContiguousParts() throws {
        let augment = SpecAugment(frequencyMaskParameter: 2, timeMaskParameter: 3, frequencyMaskCount: 1, timeMaskCount: 1)
        let whole = try DataLoader(
            items: CountingSource.items(22), source: CountingSource(),
            configuration: .init(batchSize: 10, shuffle: true, seed: 4, augmentations: [augment]))
        let parts = try (0..<3).map { index in
            try DataLoader(
                items: CountingSource.items(22), source: CountingSource(),
                configuration: .init(
                    batchSize: 10, shuffle: true, seed: 4, augmentations: [augment], shard: DataShard(index: index, count: 3)))
        }
        let expected = try drain(whole.epoch(2))
        let sharded = try parts.map { try drain($0.epoch(2)) }
        XCTAssertEqual(expected.map(\.count), [10, 10, 2])
        for (b, batch) in expected.enumerated() {
            XCTAssertEqual(sharded.flatMap { $0[b].itemIndices }, batch.itemIndices)
            XCTAssertEqual(sharded.flatMap { $0[b].features }, batch.features)
            XCTAssertEqual(sharded.map { $0[b].globalCount }, [batch.count, batch.count, batch.count])
            XCTAssertEqual(whole.globalBatchSize(ofBatch: b), batch.count)
        }
        XCTAssertEqual(sharded.map { $0.map(\.count) }, [[3, 3, 0], [3, 3, 1], [4, 4, 1]])
        XCTAssertThrowsError(
            try DataLoader(
                items: CountingSource.items(4), source: CountingSource(),
                configuration: .init(shard: DataShard(index: 3, count: 3))))
    }

    func testUnshuffledOrderAndDropLast() throws {
        let loader = try DataLoader(
            items: CountingSource.items(10), source: CountingSource(),
            configuration: .init(batchSize: 4, dropLast: true))
        XCTAssertEqual(loader.batchesPerEpoch, 2)
        XCTAssertEqual(try drain(loader.epoch(3)).flatMap(\.itemIndices), Array(0..<8))
    }

    /// A full training configuration: shuffle, SpecAugment and MixUp on every batch.
    private func trainingLoader(
        seed: UInt64, workers: Int, source: CountingSource = CountingSource(shape: FeatureShape(mels: 40, frames: 100))
    )
        throws -> DataLoader
    {
        try DataLoader(
            items: CountingSource.items(30), source: source,
            configuration: .init(
                batchSize: 8, shuffle: true, seed: seed, prefetch: 2, workers: workers,
                augmentations: [SpecAugment()], mixUp: try MixUp(probability: 0.5)))
    }

    func testSameSeedGivesSameBatchesWhateverTheWorkerCount() throws {
        let one = try drain(trainingLoader(seed: 11, workers: 1).epoch(2))
        let three = try drain(trainingLoader(seed: 11, workers: 3).epoch(2))
        XCTAssertEqual(one.map(\.features), three.map(\.features))
        XCTAssertEqual(one.map(\.labels), three.map(\.labels))
        XCTAssertEqual(one.map(\.mix), three.map(\.mix))
        XCTAssertTrue(one.contains { $0.mix != nil } && one.contains { $0.mix == nil }, "MixUp at p=0.5 over 4 batches")
        // Another epoch or another seed changes the order.
        let nextEpoch = try drain(trainingLoader(seed: 11, workers: 1).epoch(3))
        XCTAssertNotEqual(one.flatMap(\.itemIndices), nextEpoch.flatMap(\.itemIndices))
        let otherSeed = try drain(trainingLoader(seed: 12, workers: 1).epoch(2))
        XCTAssertNotEqual(one.flatMap(\.itemIndices), otherSeed.flatMap(\.itemIndices))
    }

    func testSpecAugmentMasksABandOfEachExample() throws {
        let shape = FeatureShape(mels: 40, frames: 100)
        let loader = try DataLoader(
            items: CountingSource.items(12).map {
                var i = $0; i.url = URL(fileURLWithPath: "/c/7.wav"); return i
            },
            source: CountingSource(shape: shape),
            configuration: .init(batchSize: 4, shuffle: true, seed: 3, augmentations: [SpecAugment()]))
        var maskedSomething = false
        for batch in try drain(loader.epoch(0)) {
            for slot in 0..<batch.count {
                let x = Array(batch.features[slot * shape.count..<(slot + 1) * shape.count])
                XCTAssertTrue(x.allSatisfy { $0 == 7 || $0 == 0 })
                // Masked cells (0) form full rows (frequency mask, < 30 wide) and full columns
                // (time mask, < 80 wide).
                let maskedRows = (0..<shape.mels).filter { r in (0..<shape.frames).allSatisfy { x[r * shape.frames + $0] == 0 } }
                let maskedColumns = (0..<shape.frames).filter { c in (0..<shape.mels).allSatisfy { x[$0 * shape.frames + c] == 0 } }
                XCTAssertLessThan(maskedRows.count, 30)
                XCTAssertLessThan(maskedColumns.count, 80)
                for r in 0..<shape.mels where !maskedRows.contains(r) {
                    for c in 0..<shape.frames where !maskedColumns.contains(c) {
                        XCTAssertEqual(x[r * shape.frames + c], 7)
                    }
                }
                if let first = maskedRows.first { XCTAssertEqual(maskedRows, Array(first..<first + maskedRows.count)) }
                maskedSomething = maskedSomething || !maskedRows.isEmpty || !maskedColumns.isEmpty
            }
        }
        XCTAssertTrue(maskedSomething)
    }

    func testMixUpBlendsExamplesAndRecordsPartnerLabels() throws {
        let loader = try DataLoader(
            items: CountingSource.items(16), source: CountingSource(),
            configuration: .init(batchSize: 8, shuffle: true, seed: 9, mixUp: try MixUp(probability: 1)))
        for batch in try drain(loader.epoch(0)) {
            let mix = try XCTUnwrap(batch.mix)
            for slot in 0..<batch.count {
                let own = Float(batch.itemIndices[slot])
                // The partner's value v satisfies x = λ·own + (1-λ)·v; its label is v % 5.
                let x = batch.features[slot * 24]
                if mix.lambda < 0.999 {
                    let partner = ((x - mix.lambda * own) / (1 - mix.lambda)).rounded()
                    XCTAssertEqual(Int(partner) % 5, mix.partnerLabels[slot])
                    XCTAssertTrue(batch.itemIndices.contains(Int(partner)))
                }
            }
        }
    }

    /// The loader computes batches while the consumer is busy, and no more than `prefetch` ahead.
    func testPrefetchOverlapsTheConsumerAndIsBounded() throws {
        let source = CountingSource()
        let loader = try DataLoader(
            items: CountingSource.items(40), source: source,
            configuration: .init(batchSize: 4, prefetch: 3, workers: 2))
        let epoch = loader.epoch(0)
        XCTAssertNotNil(try epoch.next())
        // While the consumer "trains" on batch 0 and does not call next(), batches 1...3 are
        // produced in the background: wait (up to 10 s) for their items to be requested.
        let deadline = Date().addingTimeInterval(10)
        while source.callCount < 16 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(source.callCount, 16, "batches 1-3 computed while the consumer was busy")
        // ... and no further: the queue is bounded at 3 batches ahead.
        usleep(200_000)
        XCTAssertEqual(source.callCount, 16)
        XCTAssertEqual(epoch.startedBatches, 4)
        // Those batches are then handed over at once: the consumer does not wait for them.
        let waitedBefore = epoch.waitTime
        for _ in 0..<3 { XCTAssertNotNil(try epoch.next()) }
        XCTAssertEqual(epoch.waitTime, waitedBefore, "ready batches are taken without waiting")
        var rest = 0
        while try epoch.next() != nil { rest += 1 }
        XCTAssertEqual(rest, 6)
        XCTAssertEqual(source.callCount, 40)
    }

    /// With two workers, two batches are computed at the same time (not one after the other).
    func testWorkersComputeBatchesConcurrently() throws {
        let source = RendezvousSource()
        let loader = try DataLoader(
            items: CountingSource.items(8), source: source,
            configuration: .init(batchSize: 1, prefetch: 4, workers: 2))
        let epoch = loader.epoch(0)
        var count = 0
        while try epoch.next() != nil { count += 1 }
        XCTAssertEqual(count, 8)
        XCTAssertEqual(source.mostInFlight, 2)
    }

    func testReleasingAnEpochStopsItsWorkers() throws {
        let source = CountingSource()
        let loader = try DataLoader(
            items: CountingSource.items(400), source: source,
            configuration: .init(batchSize: 4, prefetch: 2))
        do {
            let epoch = loader.epoch(0)
            _ = try epoch.next()
        }
        usleep(200_000)
        let after = source.callCount
        usleep(200_000)
        XCTAssertEqual(source.callCount, after)
        XCTAssertLessThanOrEqual(after, 4 * 4)
    }

    func testAFailingItemIsReportedWithItsFileAndOrigin() throws {
        let source = CountingSource(failing: ["6.wav"])
        let loader = try DataLoader(items: CountingSource.items(12), source: source, configuration: .init(batchSize: 4))
        let epoch = loader.epoch(0)
        XCTAssertNotNil(try epoch.next())
        XCTAssertThrowsError(try epoch.next()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("/clips/6.wav") && text.contains("test:6") && text.contains("injected failure"), text)
        }
        XCTAssertNil(try epoch.next())
    }

    func testReferenceRecipeConfigurations() throws {
        let train = DataLoader.Configuration.referenceTraining(seed: 4)
        XCTAssertEqual(train.batchSize, 32)
        XCTAssertTrue(train.shuffle)
        XCTAssertEqual(train.mixUp?.probability, 0.3)
        XCTAssertEqual(train.mixUp?.distribution.alpha, 0.2)
        XCTAssertEqual(train.mixUp?.distribution.beta, 0.2)
        let masks = try XCTUnwrap(train.augmentations.first as? SpecAugment)
        XCTAssertEqual(masks.frequencyMaskParameter, 30)
        XCTAssertEqual(masks.timeMaskParameter, 80)
        XCTAssertEqual(masks.maskValue, .constant(0))
        let eval = DataLoader.Configuration.evaluation()
        XCTAssertFalse(eval.shuffle)
        XCTAssertTrue(eval.augmentations.isEmpty)
        XCTAssertNil(eval.mixUp)
    }

    func testNegativeEpochsAreJustAnotherSeedStream() throws {
        let loader = try DataLoader(
            items: CountingSource.items(6), source: CountingSource(),
            configuration: .init(batchSize: 6, shuffle: true, seed: 1))
        XCTAssertEqual(try drain(loader.epoch(-1)).flatMap(\.itemIndices).sorted(), Array(0..<6))
    }

    func testInvalidConfigurationsThrow() {
        let items = CountingSource.items(3)
        XCTAssertThrowsError(try DataLoader(items: items, source: CountingSource(), configuration: .init(batchSize: 0)))
        XCTAssertThrowsError(try DataLoader(items: items, source: CountingSource(), configuration: .init(prefetch: 0)))
        XCTAssertThrowsError(try DataLoader(items: items, source: CountingSource(), configuration: .init(workers: 0)))
        XCTAssertThrowsError(try DataLoader(items: [], source: CountingSource(), configuration: .init()))
        XCTAssertThrowsError(
            try DataLoader(
                items: [LoaderItem(url: URL(fileURLWithPath: "/x.wav"), label: -1)],
                source: CountingSource(), configuration: .init())
        ) { XCTAssertTrue("\($0)".contains("/x.wav")) }
        XCTAssertThrowsError(try DataLoader(items: items, source: CountingSource(), configuration: .init(batchSize: 4, dropLast: true)))
        let broken = SpecAugment(frequencyMaskParameter: -1)
        let loader = try? DataLoader(
            items: items, source: CountingSource(),
            configuration: .init(batchSize: 3, augmentations: [broken]))
        XCTAssertThrowsError(try loader?.epoch(0).next()) { XCTAssertTrue("\($0)".contains("augmentation failed")) }
    }
}

/// A source whose calls wait (up to 5 s) until another call is in flight, recording the most
/// calls ever in flight at once.
private final class RendezvousSource: FeatureSource, @unchecked Sendable {
    let shape = FeatureShape(mels: 1, frames: 1)
    private let condition = NSCondition()
    private var inFlight = 0
    private var most = 0

    var mostInFlight: Int { condition.withLock { most } }

    func features(of item: LoaderItem) throws -> [Float] {
        condition.lock()
        inFlight += 1
        most = max(most, inFlight)
        condition.broadcast()
        let deadline = Date().addingTimeInterval(5)
        while most < 2 && condition.wait(until: deadline) {}
        inFlight -= 1
        condition.unlock()
        return [0]
    }
}
