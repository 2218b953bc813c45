/// A fully connected layer, as PyTorch's `nn.Linear`: `y = x · weightᵀ + bias`.
///
/// Parameters `weight` `[outFeatures, inFeatures]` and optional `bias` `[outFeatures]`,
/// initialised as PyTorch does (Kaiming-uniform, a = √5).
public final class Linear: Layer {
    /// `[outFeatures, inFeatures]`.
    public let weight: Parameter
    /// `[outFeatures]`, or `nil`.
    public let bias: Parameter?
    public var isTraining = true

    /// A map from `inFeatures` to `outFeatures`.
    /// - Precondition: both are positive.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(
            inFeatures > 0 && outFeatures > 0,
            "TensorKit.Linear: features \(inFeatures)->\(outFeatures) must be positive")
        weight = Parameter(Initialization.kaimingUniformDefault([outFeatures, inFeatures], generator: &generator))
        self.bias = bias ? Parameter(Initialization.defaultBias(count: outFeatures, fanIn: inFeatures, generator: &generator)) : nil
    }

    /// ``init(_:_:bias:generator:)`` with a generator seeded from the system.
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        var g = RandomGenerator()
        self.init(inFeatures, outFeatures, bias: bias, generator: &g)
    }

    public var namedOwnParameters: [(name: String, parameter: Parameter)] {
        if let bias { return [("weight", weight), ("bias", bias)] }
        return [("weight", weight)]
    }

    /// Maps `input` (`[batch, inFeatures]`) to `[batch, outFeatures]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        linear(input, weight: weight.tensor, bias: bias?.tensor)
    }
}
