/// A 2-D convolution layer, as PyTorch's `nn.Conv2d` (square kernel, stride and padding).
///
/// Parameters: `weight` `[outChannels, inChannels, kernelSize, kernelSize]` and, when enabled,
/// `bias` `[outChannels]`, initialised as PyTorch does (Kaiming-uniform, a = √5).
public final class Conv2d: Layer {
    /// The filters, `[outChannels, inChannels, kernelSize, kernelSize]`.
    public let weight: Parameter
    /// The per-output-channel bias, or `nil`.
    public let bias: Parameter?
    /// Step between windows, in pixels.
    public let stride: Int
    /// Zero padding on every side, in pixels.
    public let padding: Int
    public var isTraining = true

    /// A convolution from `inChannels` to `outChannels` with a `kernelSize`² window.
    /// - Precondition: positive channel counts, kernel size and stride; padding >= 0.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "TensorKit.Conv2d: channels \(inChannels)->\(outChannels), kernel \(kernelSize), stride \(stride) must be positive, padding \(padding) >= 0")
        let shape = [outChannels, inChannels, kernelSize, kernelSize]
        weight = Parameter(Initialization.kaimingUniformDefault(shape, generator: &generator))
        self.bias = bias
            ? Parameter(Initialization.defaultBias(count: outChannels, fanIn: inChannels * kernelSize * kernelSize, generator: &generator))
            : nil
        self.stride = stride
        self.padding = padding
    }

    /// ``init(_:_:kernelSize:stride:padding:bias:generator:)`` with a generator seeded from the system.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            bias: Bool = true) {
        var g = RandomGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, bias: bias, generator: &g)
    }

    public var namedOwnParameters: [(name: String, parameter: Parameter)] {
        if let bias { return [("weight", weight), ("bias", bias)] }
        return [("weight", weight)]
    }

    /// Convolves `input` (`[batch, inChannels, height, width]`).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        conv2d(input, weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding)
    }
}
