import Dispatch

/// Runs CPU-heavy jobs off Swift's cooperative threads, at most `width` at a time, with at most
/// `queueLimit` more waiting; beyond that, ``run(_:)`` fails at once with ``PoolError/busy``.
///
/// Each job (decode, front-end, forward pass, JSON) holds a few tens of MB while it runs, so
/// bounding the jobs in flight keeps the server's memory flat however many clients connect.
/// The forward pass already spreads over every core, so the default width is 1.
public actor InferencePool {
    /// Why a job was not run.
    public enum PoolError: Error, Equatable {
        /// `queueLimit` jobs are already waiting.
        case busy(waiting: Int)
    }

    /// Jobs that may run at once.
    public nonisolated let width: Int
    /// Jobs that may wait for a free slot.
    public nonisolated let queueLimit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A pool running up to `width` jobs (at least 1) with up to `queueLimit` waiting.
    public init(width: Int = 1, queueLimit: Int = 32) {
        self.width = max(1, width)
        self.queueLimit = max(0, queueLimit)
    }

    /// Runs `job` on a dispatch thread once a slot is free and returns its result.
    /// - Throws: ``PoolError/busy(waiting:)`` when the queue is full, or what `job` throws.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try job() })
            }
        }
    }

    private func acquire() async throws {
        if running < width {
            running += 1
            return
        }
        guard waiters.count < queueLimit else { throw PoolError.busy(waiting: waiters.count) }
        // The releasing job hands its slot straight to us, so `running` is unchanged.
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
