/// A learning-rate schedule in the manner of `torch.optim.lr_scheduler`: it sets its optimiser's
/// ``Optimizer/learningRate`` (and for some schedules ``Optimizer/momentum``) on creation, for
/// step 0, and again on each ``step()``, which is called once after each ``Optimizer/step()``
/// (or once per epoch, for epoch-based schedules).
public protocol LRScheduler: AnyObject {
    /// The optimiser whose learning rate is scheduled.
    var optimizer: any Optimizer { get }
    /// How many times ``step()`` has been called (PyTorch's `last_epoch`; 0 after creation).
    var lastEpoch: Int { get }
    /// Advances the schedule by one step and sets the optimiser's learning rate for it.
    /// - Throws: ``LRSchedulerError/stepsExceeded(step:totalSteps:)`` for a schedule of fixed
    ///   length stepped past its end.
    func step() throws(LRSchedulerError)
    /// The schedule's position (and the learning rate it set), for checkpoints.
    func stateDict() -> OptimizationState
    /// Restores a position saved by ``stateDict()`` of a schedule of the same kind and sets the
    /// optimiser's learning rate (and momentum) to what they were when it was saved, so the run
    /// continues exactly whatever the order in which optimiser and scheduler are restored.
    /// - Throws: ``LRSchedulerError/stateMismatch(_:)`` naming what does not fit.
    func loadStateDict(_ state: OptimizationState) throws(LRSchedulerError)
}

/// Why a scheduler could not be created, stepped or restored.
public enum LRSchedulerError: Error, Equatable, CustomStringConvertible {
    /// An argument outside its valid range (`expected` states the range).
    case invalidArgument(name: String, value: Double, expected: String)
    /// `step()` was called more often than the schedule's `totalSteps` allows.
    case stepsExceeded(step: Int, totalSteps: Int)
    /// A state dict that does not fit this scheduler.
    case stateMismatch(String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case let .invalidArgument(name, value, expected):
            return "invalid \(name) \(value): expected \(expected)"
        case let .stepsExceeded(step, total):
            return "tried to step to \(step) but the schedule has \(total) total steps"
        case let .stateMismatch(reason):
            return "scheduler state does not fit: \(reason)"
        }
    }
}

extension OptimizationState {
    /// The scalar `key` of a scheduler state.
    func schedulerScalar(_ key: String) throws(LRSchedulerError) -> Double {
        guard let value = scalars[key] else { throw .stateMismatch("missing scalar \"\(key)\"") }
        return value
    }

    /// Checks the kind and that each of `fixed` equals the saved value.
    func checkScheduler(kind expected: String, fixed: [(String, Double)]) throws(LRSchedulerError) {
        guard kind == expected else { throw .stateMismatch("state was saved by \(kind), this scheduler is \(expected)") }
        for (key, value) in fixed {
            let saved = try schedulerScalar(key)
            guard saved == value else {
                throw .stateMismatch("\(key) was \(saved) when saved, this scheduler has \(value)")
            }
        }
    }

    /// `last_epoch`, which must be a non-negative integer.
    func lastEpoch() throws(LRSchedulerError) -> Int {
        let value = try schedulerScalar("last_epoch")
        guard value >= 0, value == value.rounded(), let epoch = Int(exactly: value) else {
            throw .stateMismatch("last_epoch \(value) is not a non-negative integer")
        }
        return epoch
    }
}
