import TensorKit

/// An ``AudioCNN``'s layers as evaluation-mode inference runs them: every batch norm folded
/// into the convolution before it, ReLU and the residual addition done in the convolution's
/// output pass (see `FoldedConv2d`).
///
/// A plan is a snapshot of the weights and running statistics; it records the ``Parameter`` and
/// ``Buffer`` versions it was built from, and the model rebuilds it when any of them changed
/// (an optimiser step, a training-mode forward pass updating the statistics, a checkpoint load).
final class InferencePlan: Sendable {
    /// One residual block: `relu(conv2'(relu(conv1'(x))) + shortcut'(x))`, primes folded: per
    /// block two convolution passes and, without a projection, no other pass over memory.
    struct Block: Sendable, ResidualForward {
        let conv1: FoldedConv2d
        let conv2: FoldedConv2d
        /// The folded projection shortcut, or `nil` for the identity.
        let shortcut: FoldedConv2d?

        func callAsFunction(_ x: Tensor) -> Tensor {
            conv2(conv1(x, relu: true), adding: shortcut.map { $0(x) } ?? x, relu: true)
        }

        func sumAndOutput(_ x: Tensor) -> (sum: Tensor, output: Tensor) {
            let (sum, out) = conv2.sumAndReLU(conv1(x, relu: true), adding: shortcut.map { $0(x) } ?? x)
            return (sum, out)
        }
    }

    /// The stem convolution with its batch norm folded (ReLU fused at run time).
    let stem: FoldedConv2d
    /// Blocks by stage.
    let stages: [[Block]]
    /// The versions the plan was built from, in ``InferencePlan/sources(of:)`` order.
    let versions: [Int]

    init(_ model: AudioCNN) {
        stem = FoldedConv2d(model.stemConv, batchNorm: model.stemNorm)
        stages = model.stages.map { stage in
            stage.blocks.map { b in
                Block(
                    conv1: FoldedConv2d(b.conv1, batchNorm: b.bn1), conv2: FoldedConv2d(b.conv2, batchNorm: b.bn2),
                    shortcut: b.shortcutConvAndNorm.map { FoldedConv2d($0.conv, batchNorm: $0.bn) })
            }
        }
        versions = Self.versions(of: model)
    }

    /// Whether the plan still matches the model's weights and statistics.
    func isCurrent(for model: AudioCNN) -> Bool { versions == Self.versions(of: model) }

    /// The current version of every tensor a plan is folded from.
    static func versions(of model: AudioCNN) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(5 * 40)
        func add(_ conv: Conv2d, _ bn: BatchNorm2d) {
            out.append(conv.weight.version)
            out.append(conv.bias?.version ?? -1)
            out += [bn.weight.version, bn.bias.version, bn.runningMean.version, bn.runningVar.version]
        }
        add(model.stemConv, model.stemNorm)
        for stage in model.stages {
            for b in stage.blocks {
                add(b.conv1, b.bn1)
                add(b.conv2, b.bn2)
                if let s = b.shortcutConvAndNorm { add(s.conv, s.bn) }
            }
        }
        return out
    }

    /// Every batch norm a plan folds, to check that all are in evaluation mode.
    static func batchNorms(of model: AudioCNN) -> [BatchNorm2d] {
        var out = [model.stemNorm]
        for stage in model.stages {
            for b in stage.blocks {
                out += [b.bn1, b.bn2]
                if let s = b.shortcutConvAndNorm { out.append(s.bn) }
            }
        }
        return out
    }
}
