/// One batch of examples, ready for a network: features as one contiguous float32 buffer in
/// row-major `[count, 1, mels, frames]` order, with their labels.
public struct Batch: Sendable {
    /// The features, `shape.reduce(1, *)` floats in row-major order of ``shape``.
    public var features: [Float]
    /// `[count, 1, mels, frames]`.
    public var shape: [Int]
    /// The label (class index) of each example.
    public var labels: [Int]
    /// The position of each example in the loader's item list, e.g. to look up its file.
    public var itemIndices: [Int]
    /// How the batch was mixed by MixUp, or `nil` when it was not.
    public var mix: Mix?
    /// The number of examples in the whole batch when this is one part of it (a sharded
    /// loader, ``DataLoader/Configuration/shard``); ``count`` otherwise.
    public var globalCount: Int

    /// MixUp's record for a mixed batch: example `i` holds `lambda` of its own clip and
    /// `1 - lambda` of the clip labelled `partnerLabels[i]`.
    public struct Mix: Sendable, Hashable {
        /// The label of the clip mixed into each example.
        public var partnerLabels: [Int]
        /// The weight of each example's own clip.
        public var lambda: Float
    }

    /// The number of examples.
    public var count: Int { labels.count }

    init(
        features: [Float], shape: [Int], labels: [Int], itemIndices: [Int], mix: Mix?, globalCount: Int? = nil
    ) {
        self.features = features
        self.shape = shape
        self.labels = labels
        self.itemIndices = itemIndices
        self.mix = mix
        self.globalCount = globalCount ?? labels.count
    }

    /// Soft target vectors, `[count, classCount]` row-major: one-hot labels with label
    /// smoothing `ε` (`(1-ε)·onehot + ε/classCount`), mixed as MixUp mixed the inputs.
    ///
    /// Cross-entropy is linear in its target, so the cross-entropy against these targets equals
    /// the reference recipe's `λ·CE(ŷ, y_a) + (1-λ)·CE(ŷ, y_b)`, each with label smoothing.
    ///
    /// - Throws: ``DataLoaderError/labelOutOfRange(label:classCount:)`` when a label (or a MixUp
    ///   partner's label) is not in `0..<classCount`, or `classCount` is not positive;
    ///   ``DataLoaderError/invalidConfiguration(_:)`` when `labelSmoothing` is not in [0, 1).
    public func targets(classCount: Int, labelSmoothing: Float = 0) throws(DataLoaderError) -> [Float] {
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw .invalidConfiguration("labelSmoothing is \(labelSmoothing), expected a value in [0, 1)")
        }
        for label in labels + (mix?.partnerLabels ?? []) where !(0..<max(classCount, 0)).contains(label) {
            throw .labelOutOfRange(label: label, classCount: classCount)
        }
        let off = labelSmoothing / Float(classCount)
        let on = 1 - labelSmoothing + off
        var targets = [Float](repeating: off, count: count * classCount)
        let ownWeight = mix?.lambda ?? 1
        for i in 0..<count {
            let row = i * classCount
            targets[row + labels[i]] += (on - off) * ownWeight
            if let mix {
                targets[row + mix.partnerLabels[i]] += (on - off) * (1 - ownWeight)
            }
        }
        return targets
    }
}
