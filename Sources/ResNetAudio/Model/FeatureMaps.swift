import TensorKit

/// Intermediate activations of an ``AudioCNN`` forward pass, in forward order, named as the
/// reference inference service names them: `conv1` (after the stem's max pool),
/// `layer{n}.block{i}.conv` (the sum before the block's final ReLU), `layer{n}.block{i}.relu`,
/// and `layer{n}` (a stage's output). Each is `[batch, channels, height, width]`.
public struct FeatureMaps: Sendable {
    /// Name and activation, in the order the forward pass produced them.
    public private(set) var entries: [(name: String, tensor: Tensor)] = []

    /// The activation called `name`, or `nil`.
    public subscript(name: String) -> Tensor? {
        entries.first { $0.name == name }?.tensor
    }

    /// The names, in forward order.
    public var names: [String] { entries.map(\.name) }

    mutating func append(_ name: String, _ tensor: Tensor) {
        entries.append((name, tensor.detached))
    }
}
