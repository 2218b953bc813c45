import Foundation

/// Cosine annealing, exactly as `torch.optim.lr_scheduler.CosineAnnealingLR`: the rate follows
/// `etaMin + (base - etaMin) * (1 + cos(pi * t / tMax)) / 2`, computed recursively from the
/// current rate as PyTorch does (so external changes to the rate carry on), and continues as a
/// cosine wave past `tMax`.
public final class CosineAnnealingLR: LRScheduler {
    /// The optimiser whose learning rate this schedule sets.
    public let optimizer: any Optimizer
    /// How many times ``step()`` has been called (0 after creation).
    public private(set) var lastEpoch: Int = 0
    /// Steps from the base rate down to `etaMin` (half a period).
    public let tMax: Int
    /// The minimum learning rate.
    public let etaMin: Double
    /// The optimiser's learning rate when the schedule was created.
    public let baseLearningRate: Double

    /// Creates the schedule; the optimiser's current learning rate is the base rate.
    /// - Throws: ``LRSchedulerError/invalidArgument(name:value:expected:)`` for non-positive `tMax`.
    public init(optimizer: any Optimizer, tMax: Int, etaMin: Double = 0) throws(LRSchedulerError) {
        guard tMax > 0 else { throw .invalidArgument(name: "tMax", value: Double(tMax), expected: "a positive integer") }
        self.optimizer = optimizer
        self.tMax = tMax
        self.etaMin = etaMin
        self.baseLearningRate = optimizer.learningRate
    }

    /// Advances one step and sets the optimiser's learning rate (never throws).
    public func step() {
        lastEpoch += 1
        let t = Double(lastEpoch), period = Double(tMax)
        let lr = optimizer.learningRate
        if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
            optimizer.learningRate = lr + (baseLearningRate - etaMin) * (1 - cos(Double.pi / period)) / 2
        } else {
            optimizer.learningRate =
                (1 + cos(Double.pi * t / period)) / (1 + cos(Double.pi * (t - 1) / period))
                * (lr - etaMin) + etaMin
        }
    }

    /// Kind `CosineAnnealingLR`; scalars `last_epoch`, `lr` (the rate it set), `T_max`, `eta_min`, `base_lr`.
    public func stateDict() -> OptimizationState {
        OptimizationState(
            kind: "CosineAnnealingLR",
            scalars: [
                "last_epoch": Double(lastEpoch), "lr": optimizer.learningRate, "T_max": Double(tMax),
                "eta_min": etaMin, "base_lr": baseLearningRate,
            ])
    }

    /// Restores the position and the learning rate; `T_max`, `eta_min` and the base rate must match.
    public func loadStateDict(_ state: OptimizationState) throws(LRSchedulerError) {
        try state.checkScheduler(
            kind: "CosineAnnealingLR",
            fixed: [
                ("T_max", Double(tMax)), ("eta_min", etaMin), ("base_lr", baseLearningRate),
            ])
        let epoch = try state.lastEpoch()
        let lr = try state.schedulerScalar("lr")
        lastEpoch = epoch
        optimizer.learningRate = lr
    }
}
