import Dispatch
import TensorKit

/// Runs CPU-heavy jobs off Swift's cooperative threads (with the caller's TensorKit
/// `KernelConfiguration`), at most `width` at a time, with at most
/// `queueLimit` more waiting; beyond that, ``run(_:)`` fails at once with ``PoolError/busy``.
///
/// Each job (decode, front-end, forward pass, JSON) holds a few tens of MB while it runs, so
/// bounding the jobs in flight keeps the server's memory flat however many clients connect.
/// The forward pass already spreads over every core, so the default width is 1.
///
/// A caller whose task is cancelled while it waits (its HTTP client hung up) leaves the queue at
/// once and frees its place; a job whose task is cancelled by the time a slot is free is never
/// started. A job already running is not interrupted: its slot is busy until it ends.
public actor InferencePool {
    /// Why a job was not run.
    public enum PoolError: Error, Equatable {
        /// `queueLimit` jobs are already waiting.
        case busy(waiting: Int)
    }

    /// What the pool has done since it was created.
    public struct Counters: Sendable, Equatable {
        /// Jobs that ran to the end (returned or threw).
        public var completed = 0
        /// Jobs never started because their task was cancelled while waiting or before start.
        public var skipped = 0
        /// Calls refused with ``PoolError/busy(waiting:)``.
        public var refused = 0
        /// Jobs running now.
        public var running = 0
        /// Jobs waiting for a slot now.
        public var waiting = 0
    }

    /// Jobs that may run at once.
    public nonisolated let width: Int
    /// Jobs that may wait for a free slot.
    public nonisolated let queueLimit: Int
    private var running = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiterID = 0
    private var completed = 0, skipped = 0, refused = 0

    /// A pool running up to `width` jobs (at least 1) with up to `queueLimit` waiting.
    public init(width: Int = 1, queueLimit: Int = 32) {
        self.width = max(1, width)
        self.queueLimit = max(0, queueLimit)
    }

    /// The pool's counts so far and its current occupancy.
    public var counters: Counters {
        Counters(completed: completed, skipped: skipped, refused: refused, running: running, waiting: waiters.count)
    }

    /// Runs `job` on a dispatch thread once a slot is free and returns its result.
    /// - Throws: ``PoolError/busy(waiting:)`` when the queue is full, `CancellationError` when the
    ///   calling task is cancelled before `job` starts (the job is then skipped), or what `job` throws.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        // The slot may have been handed over after the caller gave up: do not spend it.
        guard !Task.isCancelled else {
            skipped += 1
            throw CancellationError()
        }
        defer { completed += 1 }
        // The job runs on a Dispatch thread, outside the caller's task: carry its kernel choice.
        let kernels = KernelConfiguration.current
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try KernelConfiguration.withCurrent(kernels, job) })
            }
        }
    }

    private func acquire() async throws {
        if running < width {
            running += 1
            return
        }
        guard waiters.count < queueLimit else {
            refused += 1
            throw PoolError.busy(waiting: waiters.count)
        }
        let id = nextWaiterID
        nextWaiterID += 1
        // The releasing job hands its slot straight to us, so `running` is unchanged.
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Cancelled before we queued: `onCancel` has run (or will) and found nothing.
                if Task.isCancelled {
                    skipped += 1
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.abandon(id) }
        }
    }

    /// Drops waiter `id` from the queue if it is still there (not yet handed a slot).
    private func abandon(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        skipped += 1
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }
}
