/// Inverted dropout, as PyTorch's `F.dropout`: in training, each element is zeroed with
/// probability `p` and the others are scaled by `1 / (1 − p)`; otherwise the input passes
/// unchanged.
///
/// - Parameters:
///   - input: any shape.
///   - p: drop probability in `[0, 1]`.
///   - training: apply dropout (`true`) or pass through (`false`).
///   - generator: the source of the random mask (seed it for reproducible runs).
/// - Returns: a tensor of the input's shape. Differentiable (the same mask scales the gradient).
public func dropout(_ input: Tensor, p: Float, training: Bool, generator: inout RandomGenerator) -> Tensor {
    precondition(p >= 0 && p <= 1, "TensorKit.dropout: p = \(p) must lie in [0, 1]")
    guard training, p > 0 else { return input }
    let mask = Tensor(uninitializedShape: input.shape)
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    let mp = mask.pointer
    for i in 0..<input.count { mp[i] = generator.nextUnitFloat() < p ? 0 : scale }
    let out = Tensor(uninitializedShape: input.shape)
    Kernels.mul(input.pointer, mp, out.pointer, count: input.count)
    return Tensor.record("dropout", out, inputs: [input]) { g in
        let d = Tensor(uninitializedShape: g.shape)
        Kernels.mul(g.pointer, mask.pointer, d.pointer, count: g.count)
        return [d]
    }
}
