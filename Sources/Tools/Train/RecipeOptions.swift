import ArgumentParser
import Foundation
import ResNetAudio
import Training

/// The model sizes `audiocnn train` builds.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    case small, resnet34

    func config(classes: Int) -> AudioCNNConfig {
        switch self {
        case .small: return .small(classes: classes)
        case .resnet34: return .resnet34(classes: classes)
        }
    }
}

/// The options of the training recipe, shared by `train`, `cross-validate` and `demo`.
struct RecipeOptions: ParsableArguments {
    @Option(help: "Passes over the training set; the learning-rate schedule spans all of them.")
    var epochs: Int = 100
    @Option(help: "Clips per optimiser step.")
    var batch: Int = 32
    @Option(help: "AdamW's initial learning rate.")
    var lr: Double = 5e-4
    @Option(name: .customLong("max-lr"), help: "OneCycleLR's peak learning rate.")
    var maxLR: Double = 2e-3
    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay.")
    var weightDecay: Double = 0.01
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the cross-entropy.")
    var labelSmoothing: Float = 0.1
    @Option(help: "Fraction of training batches mixed by MixUp (0 turns it off).")
    var mixup: Double = 0.3
    @Option(help: "Seed of every random choice (weights, order, augmentation, dropout).")
    var seed: UInt64 = 0
    @Option(help: "Model size: small (0.1 M parameters) or resnet34 (the reference, 21 M).")
    var model: ModelKind = .resnet34
    @Option(help: "Dropout before the classifier (0 turns it off).")
    var dropout: Float = 0.5
    @Option(name: .customLong("freq-mask"), help: "SpecAugment's widest frequency mask in Mel bands (0 turns it off).")
    var freqMask: Int = 30
    @Option(name: .customLong("time-mask"), help: "SpecAugment's widest time mask in frames (0 turns it off).")
    var timeMask: Int = 80

    /// The model's shape for `classes` classes.
    func modelConfig(classes: Int) -> AudioCNNConfig {
        var config = model.config(classes: classes)
        config.dropout = dropout
        return config
    }

    var configuration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = batch
        c.learningRate = lr
        c.maxLearningRate = maxLR
        c.weightDecay = weightDecay
        c.labelSmoothing = labelSmoothing
        c.mixUpProbability = mixup
        c.seed = seed
        c.frequencyMask = freqMask
        c.timeMask = timeMask
        return c
    }
}
