import Foundation

/// The 1cycle policy, exactly as `torch.optim.lr_scheduler.OneCycleLR`.
///
/// The learning rate rises from `maxLearningRate / divFactor` to `maxLearningRate` over the
/// first `pctStart` of `totalSteps`, then anneals to `initial / finalDivFactor`; with
/// `threePhase` it first returns symmetrically to the initial rate and anneals in a third phase.
/// With `cycleMomentum` the optimiser's momentum (SGD's momentum, Adam's beta1) moves inversely
/// between `maxMomentum` and `baseMomentum`. Phase boundaries fall at step
/// `pctStart * totalSteps - 1` (and `2 * pctStart * totalSteps - 2`), as in PyTorch.
/// ``step()`` may be called `totalSteps` times; one more throws.
public final class OneCycleLR: LRScheduler {
    /// How the rate moves within a phase.
    public enum AnnealStrategy: String, Sendable {
        /// Half a cosine period (PyTorch's `"cos"`, the default).
        case cosine = "cos"
        /// A straight line.
        case linear
    }

    /// The optimiser whose learning rate this schedule sets.
    public let optimizer: any Optimizer
    /// How many times ``step()`` has been called (0 after creation).
    public private(set) var lastEpoch: Int = 0
    /// The number of steps in the cycle.
    public let totalSteps: Int
    /// The peak learning rate.
    public let maxLearningRate: Double
    /// The starting learning rate, `maxLearningRate / divFactor`.
    public let initialLearningRate: Double
    /// The final learning rate, `initialLearningRate / finalDivFactor`.
    public let minLearningRate: Double
    /// Whether momentum is cycled.
    public let cycleMomentum: Bool
    /// The momentum at the learning-rate peak.
    public let baseMomentum: Double
    /// The momentum at the start and end of the cycle.
    public let maxMomentum: Double
    /// The anneal strategy.
    public let annealStrategy: AnnealStrategy
    /// The fraction of the cycle spent increasing the rate.
    public let pctStart: Double
    /// Whether a third phase anneals below the initial rate.
    public let threePhase: Bool

    private struct Phase {
        var endStep: Double
        var startLR: Double, endLR: Double
        var startMomentum: Double, endMomentum: Double
    }
    private let phases: [Phase]

    /// Creates the schedule and sets the optimiser's learning rate (and momentum) for step 0.
    /// - Parameters:
    ///   - optimizer: the optimiser whose learning rate (and momentum or β₁) is scheduled.
    ///   - maxLearningRate: the peak rate, reached after `pctStart` of the cycle.
    ///   - totalSteps: the number of optimiser steps in the cycle (epochs × steps per epoch).
    ///   - pctStart: the fraction of the cycle spent increasing the rate (PyTorch default 0.3).
    ///   - annealStrategy: cosine (PyTorch's default) or linear annealing between phases.
    ///   - cycleMomentum: whether momentum (β₁ for Adam) cycles inversely to the rate.
    ///   - baseMomentum: the momentum at the peak rate (PyTorch default 0.85).
    ///   - maxMomentum: the momentum at the start and end of the cycle (PyTorch default 0.95).
    ///   - threePhase: add a third phase that anneals below the initial rate.
    ///   - divFactor: `initial = maxLearningRate / divFactor` (PyTorch default 25).
    ///   - finalDivFactor: `min = initial / finalDivFactor` (PyTorch default 1e4).
    /// - Throws: ``LRSchedulerError/invalidArgument(name:value:expected:)`` for non-positive
    ///   `totalSteps`, `pctStart` outside [0, 1], or a negative or non-finite rate.
    public init(
        optimizer: any Optimizer, maxLearningRate: Double, totalSteps: Int, pctStart: Double = 0.3,
        annealStrategy: AnnealStrategy = .cosine, cycleMomentum: Bool = true, baseMomentum: Double = 0.85,
        maxMomentum: Double = 0.95, divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
    ) throws(LRSchedulerError) {
        guard totalSteps > 0 else {
            throw .invalidArgument(name: "totalSteps", value: Double(totalSteps), expected: "a positive integer")
        }
        guard pctStart >= 0 && pctStart <= 1 else {
            throw .invalidArgument(name: "pctStart", value: pctStart, expected: "in [0, 1]")
        }
        guard maxLearningRate >= 0 && maxLearningRate.isFinite else {
            throw .invalidArgument(name: "maxLearningRate", value: maxLearningRate, expected: "a finite number >= 0")
        }
        guard divFactor > 0 && finalDivFactor > 0 else {
            throw .invalidArgument(
                name: divFactor > 0 ? "finalDivFactor" : "divFactor",
                value: divFactor > 0 ? finalDivFactor : divFactor, expected: "> 0")
        }
        self.optimizer = optimizer
        self.totalSteps = totalSteps
        self.maxLearningRate = maxLearningRate
        self.initialLearningRate = maxLearningRate / divFactor
        self.minLearningRate = initialLearningRate / finalDivFactor
        self.cycleMomentum = cycleMomentum
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
        self.annealStrategy = annealStrategy
        self.pctStart = pctStart
        self.threePhase = threePhase
        let total = Double(totalSteps)
        let (initial, peak, low) = (initialLearningRate, maxLearningRate, minLearningRate)
        if threePhase {
            phases = [
                Phase(endStep: pctStart * total - 1, startLR: initial, endLR: peak, startMomentum: maxMomentum, endMomentum: baseMomentum),
                Phase(
                    endStep: 2 * pctStart * total - 2, startLR: peak, endLR: initial, startMomentum: baseMomentum, endMomentum: maxMomentum),
                Phase(endStep: total - 1, startLR: initial, endLR: low, startMomentum: maxMomentum, endMomentum: maxMomentum),
            ]
        } else {
            phases = [
                Phase(endStep: pctStart * total - 1, startLR: initial, endLR: peak, startMomentum: maxMomentum, endMomentum: baseMomentum),
                Phase(endStep: total - 1, startLR: peak, endLR: low, startMomentum: baseMomentum, endMomentum: maxMomentum),
            ]
        }
        // PyTorch divides by a phase's length and raises ZeroDivisionError mid-training when a
        // phase is empty (e.g. pctStart * totalSteps == 1); check every step up front instead.
        if let bad = (0...totalSteps).first(where: { step in
            let (learningRate, momentum) = values(at: step)
            return !learningRate.isFinite || !momentum.isFinite
        }) {
            throw .invalidArgument(
                name: "pctStart", value: pctStart,
                expected: "a value that gives every phase a non-zero length (step \(bad) of \(totalSteps) falls in an empty phase)")
        }
        apply(values(at: 0))
    }

    /// Creates the schedule for `epochs` epochs of `stepsPerEpoch` optimiser steps each
    /// (PyTorch's `epochs=` / `steps_per_epoch=` form); other arguments as
    /// ``init(optimizer:maxLearningRate:totalSteps:pctStart:annealStrategy:cycleMomentum:baseMomentum:maxMomentum:divFactor:finalDivFactor:threePhase:)``.
    /// - Throws: ``LRSchedulerError/invalidArgument(name:value:expected:)`` for non-positive
    ///   `epochs` or `stepsPerEpoch`, and as the designated initialiser.
    public convenience init(
        optimizer: any Optimizer, maxLearningRate: Double, epochs: Int, stepsPerEpoch: Int, pctStart: Double = 0.3,
        annealStrategy: AnnealStrategy = .cosine, cycleMomentum: Bool = true, baseMomentum: Double = 0.85,
        maxMomentum: Double = 0.95, divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
    ) throws(LRSchedulerError) {
        guard epochs > 0 else { throw .invalidArgument(name: "epochs", value: Double(epochs), expected: "a positive integer") }
        guard stepsPerEpoch > 0 else {
            throw .invalidArgument(name: "stepsPerEpoch", value: Double(stepsPerEpoch), expected: "a positive integer")
        }
        let (total, overflow) = epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        guard !overflow else {
            throw .invalidArgument(name: "epochs", value: Double(epochs), expected: "epochs * stepsPerEpoch to fit in Int")
        }
        try self.init(
            optimizer: optimizer, maxLearningRate: maxLearningRate, totalSteps: total, pctStart: pctStart,
            annealStrategy: annealStrategy, cycleMomentum: cycleMomentum, baseMomentum: baseMomentum,
            maxMomentum: maxMomentum, divFactor: divFactor, finalDivFactor: finalDivFactor, threePhase: threePhase)
    }

    /// The learning rate and momentum at `step` (PyTorch's `get_lr`).
    private func values(at step: Int) -> (learningRate: Double, momentum: Double) {
        var start = 0.0
        for (index, phase) in phases.enumerated() {
            if Double(step) <= phase.endStep || index == phases.count - 1 {
                let pct = (Double(step) - start) / (phase.endStep - start)
                return (anneal(phase.startLR, phase.endLR, pct), anneal(phase.startMomentum, phase.endMomentum, pct))
            }
            start = phase.endStep
        }
        preconditionFailure("unreachable: the last phase always matches")
    }

    private func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        switch annealStrategy {
        case .cosine: return end + (start - end) / 2.0 * (cos(Double.pi * pct) + 1)
        case .linear: return (end - start) * pct + start
        }
    }

    private func apply(_ values: (learningRate: Double, momentum: Double)) {
        optimizer.learningRate = values.learningRate
        if cycleMomentum { optimizer.momentum = values.momentum }
    }

    /// Advances one step and sets the learning rate (and momentum) for it.
    /// - Throws: ``LRSchedulerError/stepsExceeded(step:totalSteps:)`` past `totalSteps` steps.
    public func step() throws(LRSchedulerError) {
        guard lastEpoch + 1 <= totalSteps else { throw .stepsExceeded(step: lastEpoch + 1, totalSteps: totalSteps) }
        lastEpoch += 1
        apply(values(at: lastEpoch))
    }

    /// Kind `OneCycleLR`; scalars `last_epoch` and the schedule's arguments.
    public func stateDict() -> OptimizationState {
        OptimizationState(
            kind: "OneCycleLR",
            scalars: [
                "last_epoch": Double(lastEpoch), "total_steps": Double(totalSteps), "max_lr": maxLearningRate,
                "initial_lr": initialLearningRate, "min_lr": minLearningRate, "pct_start": pctStart,
                "cycle_momentum": cycleMomentum ? 1 : 0, "base_momentum": baseMomentum, "max_momentum": maxMomentum,
                "three_phase": threePhase ? 1 : 0, "anneal_linear": annealStrategy == .linear ? 1 : 0,
            ])
    }

    /// Restores the position; the schedule's arguments must equal this one's.
    public func loadStateDict(_ state: OptimizationState) throws(LRSchedulerError) {
        try state.checkScheduler(
            kind: "OneCycleLR",
            fixed: [
                ("total_steps", Double(totalSteps)), ("max_lr", maxLearningRate), ("initial_lr", initialLearningRate),
                ("min_lr", minLearningRate), ("pct_start", pctStart), ("cycle_momentum", cycleMomentum ? 1 : 0),
                ("base_momentum", baseMomentum), ("max_momentum", maxMomentum), ("three_phase", threePhase ? 1 : 0),
                ("anneal_linear", annealStrategy == .linear ? 1 : 0),
            ])
        let epoch = try state.lastEpoch()
        guard epoch <= totalSteps else { throw .stateMismatch("last_epoch \(epoch) is past total_steps \(totalSteps)") }
        lastEpoch = epoch
        apply(values(at: epoch))
    }
}
