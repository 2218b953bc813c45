/// Step decay, exactly as `torch.optim.lr_scheduler.StepLR`: the rate is multiplied by `gamma`
/// every `stepSize` steps.
public final class StepLR: LRScheduler {
    /// The optimiser whose learning rate this schedule sets.
    public let optimizer: any Optimizer
    /// How many times ``step()`` has been called (0 after creation).
    public private(set) var lastEpoch: Int = 0
    /// Steps between decays.
    public let stepSize: Int
    /// The decay factor.
    public let gamma: Double

    /// Creates the schedule from the optimiser's current learning rate.
    /// - Throws: ``LRSchedulerError/invalidArgument(name:value:expected:)`` for non-positive
    ///   `stepSize` or a negative `gamma`.
    public init(optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) throws(LRSchedulerError) {
        guard stepSize > 0 else { throw .invalidArgument(name: "stepSize", value: Double(stepSize), expected: "a positive integer") }
        guard gamma >= 0 && gamma.isFinite else { throw .invalidArgument(name: "gamma", value: gamma, expected: "a finite number >= 0") }
        self.optimizer = optimizer
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// Advances one step and multiplies the learning rate by `gamma` every `stepSize` steps.
    public func step() {
        lastEpoch += 1
        if lastEpoch % stepSize == 0 { optimizer.learningRate *= gamma }
    }

    /// Kind `StepLR`; scalars `last_epoch`, `lr` (the rate it set), `step_size`, `gamma`.
    public func stateDict() -> OptimizationState {
        OptimizationState(
            kind: "StepLR",
            scalars: [
                "last_epoch": Double(lastEpoch), "lr": optimizer.learningRate, "step_size": Double(stepSize), "gamma": gamma,
            ])
    }

    /// Restores the position and the learning rate; `step_size` and `gamma` must match.
    public func loadStateDict(_ state: OptimizationState) throws(LRSchedulerError) {
        try state.checkScheduler(kind: "StepLR", fixed: [("step_size", Double(stepSize)), ("gamma", gamma)])
        let epoch = try state.lastEpoch()
        let lr = try state.schedulerScalar("lr")
        lastEpoch = epoch
        optimizer.learningRate = lr
    }
}
