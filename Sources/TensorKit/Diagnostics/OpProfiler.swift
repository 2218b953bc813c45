import _Locking
import Dispatch
import Synchronization

/// Time spent per operation, forward and backward, for finding where a training step goes.
///
/// While profiling, every recorded operation (`conv2d`, `batchNorm2d+relu`, …) is charged the
/// wall time since the previous one finished on the forward side (so call ``mark()`` after
/// work that is not a tensor operation, such as loading data), and the time of its backward
/// closure on the backward side. Off by default; when off it costs one atomic load per op.
public enum OpProfiler {
    /// One operation's totals.
    public struct Entry: Sendable, Equatable {
        /// The operation's name, e.g. `conv2d`.
        public var op: String
        /// Times recorded.
        public var calls: Int
        /// Total forward milliseconds.
        public var forwardMilliseconds: Double
        /// Total backward milliseconds.
        public var backwardMilliseconds: Double
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var last: UInt64 = 0
    }
    private static let enabled = Atomic<Bool>(false)
    private static let state = Locked(State())

    /// Clears the totals and starts profiling.
    public static func start() {
        state.withLock { $0 = State(last: DispatchTime.now().uptimeNanoseconds) }
        enabled.store(true, ordering: .releasing)
    }

    /// Stops profiling and returns the totals, largest forward + backward time first.
    @discardableResult
    public static func stop() -> [Entry] {
        enabled.store(false, ordering: .releasing)
        return state.withLock { Array($0.entries.values) }
            .sorted { $0.forwardMilliseconds + $0.backwardMilliseconds > $1.forwardMilliseconds + $1.backwardMilliseconds }
    }

    /// Restarts the forward clock: the time since the last operation is charged to nobody.
    public static func mark() {
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.last = now }
    }

    static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    static func forward(_ op: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { s in
            let ms = Double(now &- s.last) / 1e6
            s.entries[op, default: Entry(op: op, calls: 0, forwardMilliseconds: 0, backwardMilliseconds: 0)].calls += 1
            s.entries[op]!.forwardMilliseconds += ms
            s.last = now
        }
    }

    static func backward(_ op: String, nanoseconds: UInt64) {
        state.withLock { s in
            s.entries[op, default: Entry(op: op, calls: 0, forwardMilliseconds: 0, backwardMilliseconds: 0)]
                .backwardMilliseconds += Double(nanoseconds) / 1e6
        }
    }
}
