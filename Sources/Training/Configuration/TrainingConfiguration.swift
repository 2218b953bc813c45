import Foundation

/// The hyper-parameters of a training run. The defaults are the reference recipe: AdamW at
/// 5e-4 with weight decay 0.01, OneCycleLR up to 2e-3 over the whole run (10% warm-up, stepped
/// after every batch), label smoothing 0.1, SpecAugment (frequency mask 30, time mask 80) on
/// training examples, MixUp with `λ ~ Beta(0.2, 0.2)` on 30% of batches, batch 32, 100 epochs.
///
/// Everything random in a run (initial weights, batch order, SpecAugment, MixUp, dropout) is
/// derived from ``seed``, so two runs with equal configurations compute the same weights.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// Passes over the training set (> 0). The learning-rate schedule spans all of them.
    public var epochs: Int = 100
    /// Examples per optimiser step (> 0).
    public var batchSize: Int = 32
    /// AdamW's initial learning rate (the optimiser's `lr`; OneCycleLR overrides it from step 0).
    public var learningRate: Double = 5e-4
    /// OneCycleLR's peak learning rate.
    public var maxLearningRate: Double = 2e-3
    /// The fraction of steps OneCycleLR spends warming up, in `[0, 1]`.
    public var warmupFraction: Double = 0.1
    /// AdamW's decoupled weight decay (>= 0).
    public var weightDecay: Double = 0.01
    /// Label smoothing ε of the cross-entropy, in `[0, 1)`.
    public var labelSmoothing: Float = 0.1
    /// The fraction of training batches mixed by MixUp, in `[0, 1]` (0 turns MixUp off).
    public var mixUpProbability: Double = 0.3
    /// MixUp's `α` in `λ ~ Beta(α, α)` (> 0).
    public var mixUpAlpha: Double = 0.2
    /// SpecAugment's largest frequency-mask width in Mel bands (0 turns it off).
    public var frequencyMask: Int = 30
    /// SpecAugment's largest time-mask width in frames (0 turns it off).
    public var timeMask: Int = 80
    /// The seed of every random choice of the run.
    public var seed: UInt64 = 0

    /// The reference recipe.
    public init() {}

    /// Checks every field.
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` naming the field, its value and the
    ///   range expected.
    public func validate() throws(TrainingError) {
        func fail(_ text: String) -> TrainingError { .invalidConfiguration(text) }
        guard epochs > 0 else { throw fail("epochs is \(epochs), expected > 0") }
        guard batchSize > 0 else { throw fail("batch size is \(batchSize), expected > 0") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("learning rate is \(learningRate), expected > 0") }
        guard maxLearningRate > 0, maxLearningRate.isFinite else {
            throw fail("max learning rate is \(maxLearningRate), expected > 0")
        }
        guard (0...1).contains(warmupFraction) else { throw fail("warm-up fraction is \(warmupFraction), expected in [0, 1]") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw fail("weight decay is \(weightDecay), expected >= 0") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw fail("label smoothing is \(labelSmoothing), expected in [0, 1)")
        }
        guard (0...1).contains(mixUpProbability) else {
            throw fail("MixUp probability is \(mixUpProbability), expected in [0, 1]")
        }
        guard mixUpAlpha > 0, mixUpAlpha.isFinite else { throw fail("MixUp alpha is \(mixUpAlpha), expected > 0") }
        guard frequencyMask >= 0, timeMask >= 0 else {
            throw fail("SpecAugment masks are \(frequencyMask) (frequency) and \(timeMask) (time), expected >= 0")
        }
    }

    /// The configuration as sorted-key JSON, as stored in the training-state file.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
