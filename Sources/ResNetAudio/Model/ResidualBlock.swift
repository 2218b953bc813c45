import TensorKit

/// A basic residual block: `conv3x3(stride) - BN - ReLU - conv3x3 - BN`, plus the shortcut,
/// then ReLU. The shortcut is the identity, or a 1x1 convolution (no bias) with BN when the
/// stride or the channel count changes.
///
/// State-dict names as PyTorch's `ResidualBlock`: `conv1`, `bn1`, `conv2`, `bn2`, and
/// `shortcut.0` / `shortcut.1` when the projection exists.
public final class ResidualBlock: Layer {
    /// The first 3×3 convolution (carries the block's stride).
    public let conv1: Conv2d
    /// Batch norm after ``conv1``.
    public let bn1: BatchNorm2d
    /// The second 3×3 convolution (stride 1).
    public let conv2: Conv2d
    /// Batch norm after ``conv2``.
    public let bn2: BatchNorm2d
    /// The projection shortcut (1x1 conv + BN), or `nil` for the identity.
    public let shortcut: Sequential?
    /// The projection shortcut's convolution and batch norm (the layers of ``shortcut``), or
    /// `nil` for the identity.
    let shortcutConvAndNorm: (conv: Conv2d, bn: BatchNorm2d)?
    /// Whether batch norm uses batch statistics (and dropout drops); set with `train()`/`eval()`.
    public var isTraining = true

    /// A block from `inChannels` to `outChannels`; `stride` 2 halves height and width.
    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, generator: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(outChannels)
        if stride != 1 || inChannels != outChannels {
            let conv = Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false, generator: &generator)
            let bn = BatchNorm2d(outChannels)
            shortcutConvAndNorm = (conv, bn)
            shortcut = Sequential(conv, bn)
        } else {
            shortcutConvAndNorm = nil
            shortcut = nil
        }
    }

    /// Sub-modules under their PyTorch `state_dict` names.
    public var namedChildren: [(name: String, module: any Module)] {
        var children: [(name: String, module: any Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let shortcut { children.append(("shortcut", shortcut)) }
        return children
    }

    /// The block's output, `[batch, outChannels, H', W']`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let (preNorm, moments, skip) = branches(input)
        // bn2, the shortcut addition and the final ReLU in one pass, keeping one map fewer
        // alive for the backward pass than bn2 followed by `addReLU`.
        return bn2.forward(preNorm, adding: skip, fusedReLU: true, moments: moments)
    }

    /// The output together with the sum before the final ReLU (the `.conv` feature map).
    func sumAndOutput(_ input: Tensor) -> (sum: Tensor, output: Tensor) {
        let (preNorm, moments, skip) = branches(input)
        let sum = bn2.forward(preNorm, adding: skip, fusedReLU: false, moments: moments)
        return (sum, sum.relu())
    }

    /// `conv2(relu(bn1(conv1(x))))` (before bn2), its channel moments where conv2 added them up
    /// for a training bn2, and the shortcut's output.
    private func branches(_ input: Tensor) -> (preNorm: Tensor, moments: ChannelMoments?, skip: Tensor) {
        let hidden = bn1.forward(conv1, input, fusedReLU: true)
        let (preNorm, moments) = bn2.isTraining ? conv2.forwardCollectingMoments(hidden) : (conv2(hidden), nil)
        return (preNorm, moments, shortcut.map { $0(input) } ?? input)
    }
}

extension BatchNorm2d {
    /// `self(conv(input))` with `fusedReLU`, the statistics (in training) from the moments the
    /// convolution adds up as it stores its output, where it does.
    fileprivate func forward(_ conv: Conv2d, _ input: Tensor, fusedReLU: Bool) -> Tensor {
        guard isTraining else { return forward(conv(input), fusedReLU: fusedReLU) }
        let (output, moments) = conv.forwardCollectingMoments(input)
        return forward(output, fusedReLU: fusedReLU, moments: moments)
    }
}

/// The blocks of one stage, named `0`, `1`, … as PyTorch's `nn.ModuleList`.
final class Stage: Module {
    let blocks: [ResidualBlock]
    var isTraining = true

    init(_ blocks: [ResidualBlock]) { self.blocks = blocks }

    var namedChildren: [(name: String, module: any Module)] {
        blocks.enumerated().map { (String($0.offset), $0.element as any Module) }
    }
}

extension ResidualBlock: ResidualForward {}
