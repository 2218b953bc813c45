extension Tensor {
    /// The same elements viewed with another shape (no copy). One dimension may be `-1`, inferred
    /// from the others. Differentiable.
    /// - Precondition: the element counts agree (use ``reshaped(toChecked:)`` for a throwing form).
    public func reshaped(to newShape: [Int]) -> Tensor {
        do { return try reshaped(toChecked: newShape) } catch {
            preconditionFailure("TensorKit: \(error)")
        }
    }

    /// ``reshaped(to:)`` that throws ``TensorError/reshapeMismatch(from:to:)`` when the element
    /// counts differ or the shape is invalid.
    public func reshaped(toChecked newShape: [Int]) throws -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let rest = newShape.enumerated().filter { $0.offset != inferred }.map(\.element)
            let known = rest.reduce(1, *)
            guard rest.allSatisfy({ $0 >= 0 }), newShape.filter({ $0 == -1 }).count == 1,
                known > 0, count % known == 0
            else {
                throw TensorError.reshapeMismatch(from: shape, to: newShape)
            }
            target[inferred] = count / known
        }
        guard target.allSatisfy({ $0 >= 0 }), target.reduce(1, *) == count else {
            throw TensorError.reshapeMismatch(from: shape, to: newShape)
        }
        let out = Tensor(shape: target, storage: storage)
        let inputShape = shape
        return Tensor.record("reshape", out, inputs: [self]) { g in
            [Tensor(shape: inputShape, storage: g.storage)]
        }
    }

    /// Flattens dimensions `startDim...` into one (PyTorch's `torch.flatten(x, 1)` by default),
    /// e.g. `[N, C, 1, 1]` to `[N, C]`. Differentiable.
    public func flattened(startDim: Int = 1) -> Tensor {
        precondition(
            startDim >= 0 && startDim < max(rank, 1),
            "TensorKit: flattened(startDim: \(startDim)) on a tensor of shape \(shape)")
        guard rank > 0 else { return reshaped(to: [1]) }
        return reshaped(to: Array(shape[..<startDim]) + [shape[startDim...].reduce(1, *)])
    }
}
