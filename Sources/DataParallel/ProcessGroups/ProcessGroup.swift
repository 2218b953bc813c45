/// The processes of one data-parallel run and the collective operations between them: what a
/// trainer needs to keep replicas of a model in step (sums of gradients and statistics, copies
/// of rank 0's state).
///
/// Every process calls the same collectives in the same order with the same sizes; a
/// collective returns once every process has contributed. ``MPIProcessGroup`` runs them over
/// MPI (one process per rank, started by `mpirun`); ``LocalProcessGroup`` runs them between
/// threads of one process.
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's index, `0..<size`; rank 0 writes checkpoints and logs.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }

    /// Replaces every value by its sum over all processes; returns when done.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DataParallelError)
    /// Replaces every value by its sum over all processes; returns when done.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DataParallelError)
    /// Copies `root`'s bytes into every other process's `bytes` (all of the same count).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(DataParallelError)

    /// Starts ``allReduceSum(_:)-(UnsafeMutableBufferPointer<Float>)`` and returns at once, so
    /// that the caller computes while the values travel; `values` must stay valid and untouched
    /// until ``PendingReduction/wait()`` returns. Collectives run in the order they are
    /// started or called.
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction
}

/// A sum started with ``ProcessGroup/startAllReduceSum(_:)``.
public final class PendingReduction: @unchecked Sendable {
    private let condition = ConditionVariable()
    private var outcome: Result<Double, DataParallelError>?

    /// A reduction that finishes when ``finish(_:)`` is called.
    public init() {}

    /// Records the outcome: the seconds the transfer took, or the error.
    public func finish(_ result: Result<Double, DataParallelError>) {
        condition.withLock {
            outcome = result
            condition.broadcast()
        }
    }

    /// Waits for the sum.
    /// - Returns: the seconds the collective itself took (from its start on the wire, which may
    ///   be after the call that started it, to its end).
    /// - Throws: the collective's error.
    @discardableResult
    public func wait() throws(DataParallelError) -> Double {
        let result = condition.withLock {
            while outcome == nil { condition.wait() }
            return outcome!
        }
        return try result.get()
    }
}

/// What can go wrong between the processes of a data-parallel run.
public enum DataParallelError: Error, CustomStringConvertible, Equatable {
    /// The process was started by a launcher (`mpirun`) but MPI could not be loaded or started.
    case unavailable(String)
    /// A collective operation failed (the MPI error, or the operation and its arguments).
    case collectiveFailed(String)
    /// The processes disagree about the run (e.g. another rank count than the run was started with).
    case mismatch(String)
    /// A value out of range, such as a rank outside the group.
    case invalidArgument(String)

    /// One line saying what failed and, where it helps, what to do.
    public var description: String {
        switch self {
        case .unavailable(let text): return "MPI is not available: \(text)"
        case .collectiveFailed(let text): return "collective operation failed: \(text)"
        case .mismatch(let text): return text
        case .invalidArgument(let text): return text
        }
    }
}
