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
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, generator: inout RandomGenerator
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
            "TensorKit.Conv2d: channels \(inChannels)->\(outChannels), kernel \(kernelSize), stride \(stride) must be positive, padding \(padding) >= 0"
        )
        let shape = [outChannels, inChannels, kernelSize, kernelSize]
        weight = Parameter(Initialization.kaimingUniformDefault(shape, generator: &generator))
        self.bias =
            bias
            ? Parameter(Initialization.defaultBias(count: outChannels, fanIn: inChannels * kernelSize * kernelSize, generator: &generator))
            : nil
        self.stride = stride
        self.padding = padding
    }

    /// ``init(_:_:kernelSize:stride:padding:bias:generator:)`` with a generator seeded from the system.
    public convenience init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true
    ) {
        var g = RandomGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding, bias: bias, generator: &g)
    }

    /// A convolution with the given filters and bias (square kernels only).
    /// - Throws: ``TensorError/invalidShape(_:reason:)`` when `weight` is not
    ///   `[out, in, k, k]`, `bias` is not `[out]`, or stride/padding are out of range.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) throws {
        guard weight.rank == 4, weight.shape[2] == weight.shape[3], weight.count > 0 else {
            throw TensorError.invalidShape(weight.shape, reason: "a Conv2d weight must be [out, in, k, k]")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw TensorError.invalidShape(bias.shape, reason: "a Conv2d bias must be [\(weight.shape[0])] for weight \(weight.shape)")
        }
        guard stride > 0, padding >= 0 else {
            throw TensorError.invalidShape(weight.shape, reason: "stride \(stride) must be positive and padding \(padding) >= 0")
        }
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
        self.stride = stride
        self.padding = padding
    }

    /// A convolution equal to `bn(self(x))` with `bn` in evaluation mode: the normalisation is
    /// folded into the filters and bias (`w·γ/√(var+ε)`, `β + (b − mean)·γ/√(var+ε)`), which
    /// saves a pass over every feature map at inference. Training the result does not update
    /// `bn`'s statistics.
    /// - Precondition: `bn` has one feature per output channel.
    public func foldingBatchNorm(_ bn: BatchNorm2d) -> Conv2d {
        let (scale, b) = batchNormFolding(bn)
        // The shapes come from a valid layer, so this cannot throw.
        return try! Conv2d(weight: Self.scalingFilters(weight.value, by: scale), bias: Tensor(b), stride: stride, padding: padding)
    }

    /// Filters `[O, …]` with output channel `o`'s filter multiplied by `scale[o]` (a new tensor).
    static func scalingFilters(_ weight: Tensor, by scale: [Float]) -> Tensor {
        precondition(weight.shape[0] == scale.count, "Conv2d: \(scale.count) factors for \(weight.shape[0]) filters")
        var w = weight.detached
        let perFilter = weight.count / scale.count
        w.withUnsafeMutableBufferPointer { wp in
            for (oc, factor) in scale.enumerated() {
                for i in 0..<perFilter { wp[oc * perFilter + i] *= factor }
            }
        }
        return w
    }

    /// What folding `bn` (in evaluation mode) into this layer does: each output channel's
    /// filter is multiplied by `scale = γ/√(var+ε)`, and its bias becomes `β + (b − mean)·scale`.
    /// - Precondition: `bn` has one feature per output channel.
    func batchNormFolding(_ bn: BatchNorm2d) -> (scale: [Float], bias: [Float]) {
        let o = weight.shape[0]
        precondition(bn.weight.shape == [o], "Conv2d.foldingBatchNorm: \(bn.weight.shape[0]) features for \(o) output channels")
        let gamma = bn.weight.value.scalars, beta = bn.bias.value.scalars
        let mean = bn.runningMean.value.scalars, variance = bn.runningVar.value.scalars
        let b0 = bias?.value.scalars ?? [Float](repeating: 0, count: o)
        var scale = [Float](repeating: 0, count: o), b = [Float](repeating: 0, count: o)
        for oc in 0..<o {
            scale[oc] = gamma[oc] / (variance[oc] + bn.eps).squareRoot()
            b[oc] = beta[oc] + (b0[oc] - mean[oc]) * scale[oc]
        }
        return (scale, b)
    }

    public var namedOwnParameters: [(name: String, parameter: Parameter)] {
        if let bias { return [("weight", weight), ("bias", bias)] }
        return [("weight", weight)]
    }

    /// Convolves `input` (`[batch, inChannels, height, width]`).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        conv2d(input, weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding)
    }

    /// Convolves `input`, with the output's ``ChannelMoments`` where the convolution adds them
    /// up as it stores the output, for the batch norm after it
    /// (``BatchNorm2d/forward(_:adding:fusedReLU:moments:)``).
    package func forwardCollectingMoments(_ input: Tensor) -> (output: Tensor, moments: ChannelMoments?) {
        conv2d(
            input, weight: weight.tensor, bias: bias?.tensor, stride: (stride, stride), padding: (padding, padding),
            collectingMoments: true)
    }
}
