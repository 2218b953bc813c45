extension Tensor {
    /// Joins tensors of equal shape along a new leading dimension: `k` tensors of shape `s` give
    /// `[k] + s` (e.g. spectrograms into a batch). Not differentiable: the result has no history.
    /// - Throws: ``TensorError/invalidShape(_:reason:)`` when `tensors` is empty or the shapes differ.
    public init(stacking tensors: [Tensor]) throws {
        guard let first = tensors.first else {
            throw TensorError.invalidShape([0], reason: "cannot stack an empty list of tensors")
        }
        if let bad = tensors.firstIndex(where: { $0.shape != first.shape }) {
            throw TensorError.invalidShape(
                tensors[bad].shape,
                reason: "tensor \(bad) differs from tensor 0's shape \(first.shape) in a stack")
        }
        self.init(uninitializedShape: [tensors.count] + first.shape)
        let n = first.count
        for (i, t) in tensors.enumerated() { (pointer + i * n).update(from: t.pointer, count: n) }
    }

    /// The index of the largest element of each row along the last dimension (the first on
    /// ties), e.g. predicted classes from `[batch, classes]` logits.
    /// - Precondition: rank >= 1 and a non-empty last dimension.
    public func argmax() -> [Int] {
        precondition(rank >= 1 && shape[rank - 1] > 0, "TensorKit.argmax: needs a non-empty last dimension, got shape \(shape)")
        let cols = shape[rank - 1], rows = count / cols
        return (0..<rows).map { r in
            var best = 0
            for j in 1..<cols where pointer[r * cols + j] > pointer[r * cols + best] { best = j }
            return best
        }
    }
}
