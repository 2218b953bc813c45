import Foundation

/// What one training epoch achieved.
public struct EpochReport: Codable, Sendable, Equatable {
    /// The epoch, counted from 1.
    public var epoch: Int
    /// Mean training loss over the epoch's batches (MixUp-mixed where the batch was mixed).
    public var trainLoss: Double
    /// Mean validation loss over the validation batches.
    public var validationLoss: Double
    /// Validation accuracy in `[0, 1]`.
    public var validationAccuracy: Double
    /// The learning rate after the epoch's last step.
    public var learningRate: Double
    /// Wall time of the epoch (training and validation), in seconds.
    public var seconds: Double
    /// Training clips per second.
    public var clipsPerSecond: Double
}

/// Progress within an epoch, reported after every training batch.
public struct BatchProgress: Sendable {
    /// The epoch, counted from 1.
    public var epoch: Int
    /// Epochs in the run.
    public var epochs: Int
    /// Batches done in this epoch.
    public var batch: Int
    /// Batches in the epoch.
    public var batches: Int
    /// Clips done in this epoch.
    public var clips: Int
    /// The mean training loss so far this epoch.
    public var meanLoss: Double
    /// Seconds since the epoch started.
    public var seconds: Double
}

/// The outcome of ``Trainer/run(resume:stopAfterEpoch:)``.
public struct TrainingSummary: Sendable {
    /// Every epoch completed so far, including those of an earlier, resumed session.
    public var history: [EpochReport]
    /// The best validation accuracy and the epoch (from 1) it was reached at.
    public var bestAccuracy: Double
    /// The epoch of ``bestAccuracy``.
    public var bestEpoch: Int
    /// The confusion matrix of the last validation.
    public var lastConfusion: ConfusionMatrix
    /// `best.safetensors`.
    public var bestCheckpoint: URL
    /// `last.safetensors`.
    public var lastCheckpoint: URL
    /// Whether all the configured epochs are done (false after `stopAfterEpoch`).
    public var finished: Bool
}
