/// A frozen convolution for inference: a ``Conv2d`` with the ``BatchNorm2d`` that follows it
/// folded into its filters and bias, and the end of the layer (adding a residual map, ReLU)
/// done in the same pass as the convolution's output.
///
/// `FoldedConv2d(conv, batchNorm: bn)(x, adding: r, relu: true)` equals
/// `relu(bn(conv(x)) + r)` with `bn` in evaluation mode, in one pass over the output instead of
/// three, and with the filters' Winograd transform computed once instead of on every call.
/// It is a snapshot: later changes to `conv` or `bn` do not reach it (build a new one).
///
/// Without gradient recording (inside `withNoGrad { … }`) or when no input requires a
/// gradient, it runs the fused kernel; otherwise it runs the same computation as
/// differentiable operations, so gradients with respect to `input` and `residual` are right
/// (the folded filters themselves are constants).
public final class FoldedConv2d: @unchecked Sendable {
    /// The folded filters, `[outChannels, inChannels, kernelSize, kernelSize]`.
    ///
    /// Made on first use and then kept: the layer runs from the source filters in the forms its
    /// kernels consume (the Winograd transform, the packed GEMM operand), so where TensorKit's
    /// AVX-512 kernels run, a layer that is only called never holds this third copy (except a
    /// pooled stem, ``callAsFunction(_:reluThen:)``, whose direct kernel reads these few filters).
    public var weight: Tensor { prepared.filters() }
    /// The folded bias, `[outChannels]`.
    public let bias: Tensor
    /// `[outChannels, inChannels, kernelSize, kernelSize]`.
    private let shape: [Int]
    /// Step between windows, in pixels.
    public let stride: Int
    /// Zero padding on every side, in pixels.
    public let padding: Int
    /// ``weight`` in the forms the kernels want, each made on first use.
    private let prepared: PreparedConvWeights

    /// Folds `batchNorm` (its running statistics, γ, β and ε, as in evaluation mode) into a
    /// copy of `conv`: filters `w·γ/√(var+ε)`, bias `β + (b − mean)·γ/√(var+ε)`. With
    /// `batchNorm` `nil`, a frozen copy of `conv` (bias 0 when it has none).
    /// - Precondition: `batchNorm` has one feature per output channel of `conv`.
    public init(_ conv: Conv2d, batchNorm: BatchNorm2d?) {
        let o = conv.weight.shape[0]
        // The filters are not copied: the snapshot shares the parameter's buffer, which the
        // parameter copies before it is next written (tensors are copy-on-write).
        if let batchNorm {
            let (scale, shift) = conv.batchNormFolding(batchNorm)
            bias = Tensor(shift)
            prepared = PreparedConvWeights(conv.weight.value.detached, outputScale: scale)
        } else {
            bias = conv.bias?.value.detached ?? Tensor(zeros: [o])
            prepared = PreparedConvWeights(conv.weight.value.detached, outputScale: nil)
        }
        shape = conv.weight.shape
        stride = conv.stride
        padding = conv.padding
    }

    /// `relu?(conv(input) + bias + residual)`, `[batch, outChannels, H', W']`.
    /// - Parameters:
    ///   - input: `[batch, inChannels, height, width]`.
    ///   - residual: a map of the output's shape added before the ReLU, or `nil`.
    ///   - relu: apply `max(·, 0)` last.
    /// - Precondition: the shapes agree (as for ``conv2d(_:weight:bias:stride:padding:)-(_,_,_,Int,_)``).
    public func callAsFunction(_ input: Tensor, adding residual: Tensor? = nil, relu: Bool = false) -> Tensor {
        run(input, residual: residual, relu: relu, keepSum: false).output
    }

    /// `pool(relu(conv(input) + bias))`: a ResNet stem's convolution, ReLU and max pooling.
    ///
    /// For a one-channel input, a stride-2 square convolution and 3×3 / stride-2 / padding-1
    /// pooling on TensorKit's AVX-512 or AVX2 kernels, one direct kernel computes the pooled map (in
    /// float32 at either ``KernelConfiguration/Precision``; the stem is a small share of the
    /// work) and the full-size map between them is never written. Otherwise, and when gradients
    /// are recorded, it is `pool(self(input, relu: true))`.
    public func callAsFunction(_ input: Tensor, reluThen pool: MaxPool2d) -> Tensor {
        let recording = GradMode.isEnabled && input.requiresGrad
        guard !recording, PooledStem.applies(inputShape: input.shape, filterShape: shape, stride: stride, padding: padding, pool: pool)
        else { return pool(self(input, relu: true)) }
        let y = PooledStem.pooled(input, filters: weight, bias: bias, padding: padding)
        if OpProfiler.isEnabled {
            OpProfiler.forward(
                "foldedConv+relu+maxPool \(shape[2])x\(shape[3])/\(stride) 1->\(shape[0]) \(y.shape[2])x\(y.shape[3])")
        }
        return y
    }

    /// The output with ReLU together with the sum before it (`conv(input) + bias + residual`),
    /// both written in the same pass: the `.conv` and `.relu` feature maps of a residual block.
    public func sumAndReLU(_ input: Tensor, adding residual: Tensor? = nil) -> (sum: Tensor, output: Tensor) {
        let r = run(input, residual: residual, relu: true, keepSum: true)
        return (r.sum!, r.output)
    }

    private func run(_ input: Tensor, residual: Tensor?, relu: Bool, keepSum: Bool) -> (output: Tensor, sum: Tensor?) {
        if GradMode.isEnabled && (input.requiresGrad || residual?.requiresGrad == true) {
            // Differentiable composition; only taken when someone wants gradients through it.
            var y = conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding)
            if let residual { y = y + residual }
            return relu ? (y.relu(), keepSum ? y : nil) : (y, keepSum ? y : nil)
        }
        precondition(
            input.rank == 4 && input.shape[1] == shape[1],
            "FoldedConv2d: input must be [N, \(shape[1]), H, W], got shape \(input.shape)")
        let g = ConvGeometry(
            batch: input.shape[0], inChannels: input.shape[1], height: input.shape[2], width: input.shape[3],
            outChannels: shape[0], kernelH: shape[2], kernelW: shape[3],
            strideH: stride, strideW: stride, padH: padding, padW: padding)
        precondition(
            g.height + 2 * padding >= g.kernelH && g.width + 2 * padding >= g.kernelW,
            "FoldedConv2d: padded input \(input.shape) is smaller than the kernel \(shape)")
        let shape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        if let residual {
            precondition(residual.shape == shape, "FoldedConv2d: residual shape \(residual.shape) differs from output shape \(shape)")
        }
        let y = Tensor(uninitializedShape: shape)
        let sum: Tensor? = keepSum ? Tensor(uninitializedShape: shape) : nil
        let epilogue = ConvEpilogue(residual: residual.map { UnsafePointer($0.pointer) }, preActivation: sum?.pointer, relu: relu)
        withExtendedLifetime(residual) {
            ConvKernels.forward(x: input.pointer, prepared: prepared, bias: bias.pointer, g, y: y.pointer, epilogue: epilogue)
        }
        if OpProfiler.isEnabled {
            // By geometry: at batch 1 where the time goes depends on the map size.
            let fused = relu ? (residual == nil ? "+relu" : "+add+relu") : ""
            OpProfiler.forward(
                "foldedConv\(fused) \(g.kernelH)x\(g.kernelW)/\(stride) \(g.inChannels)->\(g.outChannels) \(g.outHeight)x\(g.outWidth)")
        }
        return (y, sum)
    }
}
