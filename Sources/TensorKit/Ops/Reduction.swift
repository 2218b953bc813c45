extension Tensor {
    /// The sum of all elements, as a rank-0 tensor. Differentiable.
    public func sum() -> Tensor {
        let total = Float(Kernels.sum(pointer, count: count))
        let inputShape = shape
        return Tensor.record("sum", Tensor(total), inputs: [self]) { g in
            [Tensor(repeating: g.scalar, shape: inputShape)]
        }
    }

    /// The mean of all elements, as a rank-0 tensor. Differentiable.
    /// - Precondition: the tensor is not empty.
    public func mean() -> Tensor {
        precondition(count > 0, "TensorKit: mean() of an empty tensor of shape \(shape)")
        let n = count
        let total = Float(Kernels.sum(pointer, count: n) / Double(n))
        let inputShape = shape
        return Tensor.record("mean", Tensor(total), inputs: [self]) { g in
            [Tensor(repeating: g.scalar / Float(n), shape: inputShape)]
        }
    }
}
