import Foundation

/// Batches a list of clips for training or evaluation, computing features on background
/// threads ahead of the consumer.
///
/// Each epoch visits every item once, in an order shuffled from ``Configuration/seed`` and the
/// epoch number; the same seed gives the same batches (order, augmentation, MixUp) whatever the
/// number of workers or the timing of threads, and ``epoch(_:)`` can start at any epoch, which
/// is what resuming a training run needs.
///
/// Up to ``Configuration/prefetch`` batches are computed ahead of the one being consumed, so a
/// training loop that takes longer per batch than the loader never waits for data.
///
/// ```swift
/// let loader = try DataLoader(items: items, source: features, configuration: .init(batchSize: 32, seed: 7))
/// let batches = loader.epoch(0)
/// while let batch = try batches.next() { train(batch.features, batch.shape, batch.labels) }
/// ```
public final class DataLoader: Sendable {
    /// How a ``DataLoader`` batches and augments.
    public struct Configuration: Sendable {
        /// Examples per batch (> 0).
        public var batchSize: Int
        /// Whether each epoch visits the items in a seeded random order (training) or in order.
        public var shuffle: Bool
        /// Whether a last, smaller batch is dropped.
        public var dropLast: Bool
        /// Fixes the order, the augmentations and MixUp of every epoch.
        public var seed: UInt64
        /// How many batches may be computed ahead of the consumer (>= 1).
        public var prefetch: Int
        /// How many background threads compute batches (>= 1).
        public var workers: Int
        /// Per-example augmentations, in order (e.g. SpecAugment); empty for evaluation.
        public var augmentations: [any ExampleAugmentation]
        /// MixUp, or `nil` for none (evaluation).
        public var mixUp: MixUp?
        /// This process's part of every batch in a data-parallel run, or `nil` for whole
        /// batches. Every part sees the same epoch order; batch `i` is cut into
        /// ``DataShard/count`` contiguous parts whose sizes differ by at most one, and this
        /// loader yields part ``DataShard/index`` (so `batchSize` is the *global* batch). A batch
        /// with fewer examples than parts (only a last one can be) leaves some parts empty
        /// (``Batch/count`` 0, ``Batch/globalCount`` the whole). SpecAugment depends on the example only (every part augments a clip as one process
        /// would); MixUp pairs examples within the part.
        public var shard: DataShard?

        /// A configuration; the defaults suit evaluation (no shuffling or augmentation).
        public init(
            batchSize: Int = 32, shuffle: Bool = false, dropLast: Bool = false, seed: UInt64 = 0,
            prefetch: Int = 4, workers: Int = 1,
            augmentations: [any ExampleAugmentation] = [], mixUp: MixUp? = nil, shard: DataShard? = nil
        ) {
            self.batchSize = batchSize
            self.shuffle = shuffle
            self.dropLast = dropLast
            self.seed = seed
            self.prefetch = prefetch
            self.workers = workers
            self.augmentations = augmentations
            self.mixUp = mixUp
            self.shard = shard
        }
    }

    /// The items, in the order given.
    public let items: [LoaderItem]
    /// The feature source.
    public let source: any FeatureSource
    /// The configuration.
    public let configuration: Configuration

    /// A loader over `items`.
    /// - Throws: ``DataLoaderError/invalidConfiguration(_:)`` for a batch size, prefetch depth
    ///   or worker count below 1, or when `items` is empty.
    public init(items: [LoaderItem], source: any FeatureSource, configuration: Configuration) throws(DataLoaderError) {
        guard configuration.batchSize >= 1 else {
            throw .invalidConfiguration("batchSize is \(configuration.batchSize), expected >= 1")
        }
        guard configuration.prefetch >= 1 else {
            throw .invalidConfiguration("prefetch is \(configuration.prefetch), expected >= 1")
        }
        guard configuration.workers >= 1 else {
            throw .invalidConfiguration("workers is \(configuration.workers), expected >= 1")
        }
        guard !items.isEmpty else { throw .invalidConfiguration("no items to load") }
        if let bad = items.first(where: { $0.label < 0 }) {
            throw .invalidConfiguration("\(bad.url.path) has label \(bad.label), expected a class index >= 0")
        }
        guard source.shape.mels >= 1, source.shape.frames >= 1 else {
            throw .invalidConfiguration("feature shape is \(source.shape), expected both sides >= 1")
        }
        if let shard = configuration.shard {
            guard shard.count >= 1, (0..<shard.count).contains(shard.index) else {
                throw .invalidConfiguration("shard \(shard.index) of \(shard.count) does not exist; expected 0 <= index < count")
            }
        }
        if configuration.dropLast, items.count < configuration.batchSize {
            throw .invalidConfiguration("dropLast with \(items.count) items and batchSize \(configuration.batchSize) leaves no batch")
        }
        self.items = items
        self.source = source
        self.configuration = configuration
    }

    /// The number of batches in one epoch.
    public var batchesPerEpoch: Int {
        configuration.dropLast
            ? items.count / configuration.batchSize
            : (items.count + configuration.batchSize - 1) / configuration.batchSize
    }

    /// The number of examples in batch `index` of an epoch, over all parts of a sharded loader.
    public func globalBatchSize(ofBatch index: Int) -> Int {
        let size = configuration.batchSize
        return Swift.max(0, Swift.min(size, items.count - index * size))
    }

    /// The item indices epoch `epoch` visits, batch after batch.
    public func order(ofEpoch epoch: Int) -> [Int] {
        var order = Array(items.indices)
        if configuration.shuffle {
            var generator = SeededGenerator(seed: configuration.seed, stream: [Stream.order, UInt64(bitPattern: Int64(epoch))])
            order.seededShuffle(using: &generator)
        }
        return order
    }

    /// Starts producing the batches of epoch `epoch` (0-based) on background threads.
    ///
    /// Production stops when the returned sequence is exhausted, cancelled or released.
    public func epoch(_ epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch)
    }

    /// Builds batch `index` of an epoch whose visiting order is `order`. Thread-safe.
    func makeBatch(epoch: Int, index: Int, order: [Int]) throws(DataLoaderError) -> Batch {
        let size = configuration.batchSize
        var members = Array(order[(index * size)..<min(order.count, (index + 1) * size)])
        let globalCount = members.count
        if let shard = configuration.shard {
            members = Array(members[(shard.index * globalCount / shard.count)..<((shard.index + 1) * globalCount / shard.count)])
        }
        let shape = source.shape
        let stride = shape.count
        var features = [Float](repeating: 0, count: members.count * stride)
        for (slot, itemIndex) in members.enumerated() {
            let item = items[itemIndex]
            var example: [Float]
            do {
                example = try source.features(of: item)
            } catch {
                throw .itemFailed(item, reason: String(describing: error))
            }
            guard example.count == stride else {
                throw .itemFailed(item, reason: "the feature source gave \(example.count) values, expected \(shape) = \(stride)")
            }
            if !configuration.augmentations.isEmpty {
                var generator = SeededGenerator(
                    seed: configuration.seed, stream: [Stream.example, UInt64(bitPattern: Int64(epoch)), UInt64(itemIndex)])
                do {
                    for augmentation in configuration.augmentations {
                        try augmentation.apply(to: &example, shape: shape, using: &generator)
                    }
                } catch {
                    throw .itemFailed(item, reason: "augmentation failed: \(error)")
                }
            }
            features.withUnsafeMutableBufferPointer { dst in
                example.withUnsafeBufferPointer { src in
                    (dst.baseAddress! + slot * stride).update(from: src.baseAddress!, count: stride)
                }
            }
        }
        let labels = members.map { items[$0].label }
        var mix: Batch.Mix? = nil
        if let mixUp = configuration.mixUp, !members.isEmpty {
            var stream = [Stream.mixUp, UInt64(bitPattern: Int64(epoch)), UInt64(index)]
            if let shard = configuration.shard, shard.index > 0 { stream.append(UInt64(shard.index)) }
            var generator = SeededGenerator(seed: configuration.seed, stream: stream)
            if let plan = mixUp.plan(count: members.count, using: &generator) {
                plan.apply(to: &features, stride: stride)
                mix = Batch.Mix(partnerLabels: plan.partner.map { labels[$0] }, lambda: plan.lambda)
            }
        }
        return Batch(
            features: features, shape: [members.count, 1, shape.mels, shape.frames],
            labels: labels, itemIndices: members, mix: mix, globalCount: globalCount)
    }

    /// Separate random streams, so that e.g. turning MixUp on does not change the shuffle.
    enum Stream {
        static let order: UInt64 = 1
        static let example: UInt64 = 2
        static let mixUp: UInt64 = 3
    }
}

/// One part of every batch of a data-parallel run: part `index` of `count`
/// (``DataLoader/Configuration/shard``).
public struct DataShard: Sendable, Hashable, Codable {
    /// This part, `0..<count` (the process's rank).
    public var index: Int
    /// How many parts each batch is cut into (the number of processes).
    public var count: Int

    /// Part `index` of `count`.
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
}

/// What can go wrong while loading batches.
public enum DataLoaderError: Error, CustomStringConvertible {
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// The features of `item` could not be computed; `reason` is the underlying error.
    case itemFailed(LoaderItem, reason: String)
    /// A label is outside `0..<classCount`.
    case labelOutOfRange(label: Int, classCount: Int)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidConfiguration(let detail):
            return "invalid data loader configuration: \(detail)"
        case .itemFailed(let item, let reason):
            let origin = item.origin.isEmpty ? "" : " (\(item.origin))"
            return "\(item.url.path)\(origin): \(reason)"
        case .labelOutOfRange(let label, let classCount):
            return "label \(label) is outside 0..<\(classCount) (classCount must be the number of classes, > every label)"
        }
    }
}
