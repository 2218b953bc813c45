import _Locking

/// Whether the client of one HTTP connection is still there, and what to do when it leaves.
///
/// Set by ``ClientDisconnectHandler`` on the connection's channel; read by the routes, which
/// cancel work nobody will receive.
final class ClientConnection: Sendable {
    private struct State {
        var isGone = false
        var nextID = 0
        var onGone: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Locked(State())

    /// True once the client has closed its side of the connection or the connection is closed.
    var isGone: Bool { state.withLock { $0.isGone } }

    /// Marks the client gone and runs every registered action once.
    func markGone() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.isGone else { return [] }
            state.isGone = true
            defer { state.onGone = [:] }
            return Array(state.onGone.values)
        }
        for action in actions { action() }
    }

    /// Runs `operation` in a task that is cancelled as soon as the client is gone (at once if it
    /// already is) or the calling task is cancelled.
    /// - Throws: what `operation` throws (typically `CancellationError` once cancelled).
    func cancellingWhenGone<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        let id = state.withLock { state -> Int? in
            guard !state.isGone else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.onGone[id] = { task.cancel() }
            return id
        }
        if id == nil { task.cancel() }
        // A keep-alive connection carries many requests: forget this one's action when it ends.
        defer { if let id { _ = state.withLock { $0.onGone.removeValue(forKey: id) } } }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
