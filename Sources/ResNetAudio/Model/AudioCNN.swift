import _Locking
import TensorKit

/// The ResNet-style classifier of log-Mel spectrograms.
///
/// Input `[batch, 1, mels, frames]` (any size: global pooling makes the head independent of
/// it), output logits `[batch, numClasses]`. Architecture: stem `Conv2d(1→stem, 7x7, stride 2,
/// padding 3, no bias) - BN - ReLU - MaxPool(3, 2, 1)`; stages of ``ResidualBlock``s (the first
/// block of every stage after the first has stride 2 and a projection shortcut); head
/// `AdaptiveAvgPool(1x1) - flatten - Dropout - Linear`.
///
/// State-dict keys are exactly PyTorch's for the reference module tree (`conv1.0.weight`,
/// `conv1.1.running_mean`, `layer1.0.bn1.weight`, `layer2.0.shortcut.0.weight`, `fc.weight`,
/// …), so weights move between the two with ``Checkpoint``.
public final class AudioCNN: Module {
    /// The configuration this model was built from.
    public let config: AudioCNNConfig
    /// `Conv2d - BatchNorm2d - ReLU - MaxPool2d`, named `conv1.0` … `conv1.3`.
    public let stem: Sequential
    /// The stem's layers (those of ``stem``), for the folded path.
    let stemConv: Conv2d, stemNorm: BatchNorm2d, stemPool: MaxPool2d
    let stages: [Stage]
    let pool = AdaptiveAvgPool2d()
    /// The head's dropout (reseed its generator for reproducible training).
    public let dropout: Dropout
    /// The classifier, `[numClasses, widths.last]`.
    public let fc: Linear
    /// Whether batch norm uses batch statistics (and dropout drops); set with `train()`/`eval()`.
    public var isTraining = true
    /// Whether evaluation-mode forward passes without gradient recording (inside
    /// `withNoGrad`, with `eval()` set) run the folded inference path: every batch norm
    /// folded into the convolution before it, ReLU and the residual addition fused into the
    /// convolution's output pass. Same results within float rounding; `true` by default. The
    /// folded weights are rebuilt when weights or statistics change and dropped in training.
    public var usesFoldedInference = true
    /// The folded layers of the last inference pass (see `InferencePlan`).
    private let inferencePlanCache = Locked<InferencePlan?>(nil)

    /// Builds a model with PyTorch's default initialisation drawn from `generator`.
    /// - Throws: ``ModelError/invalidConfig(_:)``.
    public init(config: AudioCNNConfig, generator: inout RandomGenerator) throws(ModelError) {
        try config.validate()
        self.config = config
        stemConv = Conv2d(1, config.stemChannels, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &generator)
        stemNorm = BatchNorm2d(config.stemChannels)
        stemPool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        stem = Sequential(stemConv, stemNorm, ReLU(), stemPool)
        var channels = config.stemChannels
        var stages: [Stage] = []
        for (n, (depth, width)) in zip(config.depths, config.widths).enumerated() {
            var blocks: [ResidualBlock] = []
            for i in 0..<depth {
                blocks.append(ResidualBlock(channels, width, stride: (i == 0 && n > 0) ? 2 : 1, generator: &generator))
                channels = width
            }
            stages.append(Stage(blocks))
        }
        self.stages = stages
        dropout = Dropout(p: config.dropout, seed: generator.next())
        fc = Linear(channels, config.numClasses, generator: &generator)
    }

    /// ``init(config:generator:)`` with a generator seeded from `seed`.
    public convenience init(config: AudioCNNConfig, seed: UInt64 = 0) throws(ModelError) {
        var generator = RandomGenerator(seed: seed)
        try self.init(config: config, generator: &generator)
    }

    /// Sub-modules under their PyTorch `state_dict` names.
    public var namedChildren: [(name: String, module: any Module)] {
        var children: [(name: String, module: any Module)] = [("conv1", stem)]
        for (n, stage) in stages.enumerated() { children.append(("layer\(n + 1)", stage)) }
        // Pooling and dropout have no state; they are children so train()/eval() reach them.
        children += [("avgpool", pool), ("dropout", dropout), ("fc", fc)]
        return children
    }

    /// Logits `[batch, numClasses]` for `input` `[batch, 1, mels, frames]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var ignored: FeatureMaps? = nil
        return forward(input, capture: &ignored)
    }

    /// Logits and every feature map (see ``FeatureMaps``) for `input`.
    public func forwardWithFeatureMaps(_ input: Tensor) -> (logits: Tensor, featureMaps: FeatureMaps) {
        var maps: FeatureMaps? = FeatureMaps()
        let logits = forward(input, capture: &maps)
        return (logits, maps!)
    }

    /// Checks that `input` is `[batch, 1, height, width]` with a height and width the stem and
    /// stages can reduce (at least 1x1 after every stride).
    /// - Throws: ``ModelError/invalidInput(shape:expected:)``.
    public func validateInput(_ input: Tensor) throws(ModelError) {
        let s = input.shape
        guard s.count == 4, s[0] > 0, s[1] == 1, s[2] > 0, s[3] > 0 else {
            throw .invalidInput(shape: s, expected: "[batch, 1, mels, frames] with positive sizes")
        }
    }

    /// The folded layers when this pass can use them (evaluation mode, no gradient recording),
    /// rebuilt first if weights or statistics changed since they were folded; otherwise `nil`,
    /// and in training mode the cached plan is dropped so it does not hold memory.
    func currentInferencePlan() -> InferencePlan? {
        let eligible =
            usesFoldedInference && !GradMode.isEnabled && !isTraining
            && InferencePlan.batchNorms(of: self).allSatisfy { !$0.isTraining }
        return inferencePlanCache.withLock { plan -> InferencePlan? in
            guard eligible else {
                if isTraining { plan = nil }
                return nil
            }
            if let plan, plan.isCurrent(for: self) { return plan }
            plan = nil  // free the stale weights before folding new ones
            let fresh = InferencePlan(self)
            plan = fresh
            return fresh
        }
    }

    /// Whether folded weights are held (for tests of when they are dropped).
    var inferencePlanIsCached: Bool { inferencePlanCache.withLock { $0 != nil } }

    /// The forward pass, on the folded layers when ``currentInferencePlan()`` gives them (the
    /// stem's batch norm and ReLU inside its convolution, blocks as ``InferencePlan/Block``s),
    /// else on the layers themselves.
    private func forward(_ input: Tensor, capture maps: inout FeatureMaps?) -> Tensor {
        if let plan = currentInferencePlan() {
            return forward(plan.stem(input, reluThen: stemPool), stages: plan.stages, capture: &maps)
        }
        return forward(stem(input), stages: stages.map(\.blocks), capture: &maps)
    }

    /// The stages and the head from the stem's output `x`; the same loop for plain and folded blocks.
    private func forward<Block: ResidualForward>(
        _ stemOutput: Tensor, stages: [[Block]],
        capture maps: inout FeatureMaps?
    ) -> Tensor {
        var x = stemOutput
        maps?.append("conv1", x)
        for (n, stage) in stages.enumerated() {
            for (i, block) in stage.enumerated() {
                if maps != nil {
                    let (sum, out) = block.sumAndOutput(x)
                    maps?.append("layer\(n + 1).block\(i).conv", sum)
                    maps?.append("layer\(n + 1).block\(i).relu", out)
                    x = out
                } else {
                    x = block(x)
                }
            }
            maps?.append("layer\(n + 1)", x)
        }
        x = pool(x).flattened(startDim: 1)
        return fc(dropout(x))
    }
}

/// A residual block as the forward pass runs it: ``ResidualBlock`` (training, plain inference)
/// or its folded form (``InferencePlan/Block``).
protocol ResidualForward {
    /// The block's output.
    func callAsFunction(_ x: Tensor) -> Tensor
    /// The sum before the final ReLU and the block's output (for feature maps).
    func sumAndOutput(_ x: Tensor) -> (sum: Tensor, output: Tensor)
}
