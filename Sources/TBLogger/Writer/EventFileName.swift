import Foundation
import Synchronization

/// Event file names: `events.out.tfevents.<unix seconds, 10 digits>.<host>.<pid>.<n>`.
///
/// TensorBoard finds event files by the `tfevents` in their name and reads several per run in
/// name order. The first two fields are TensorFlow's; the process id and a per-process counter
/// follow `torch.utils.tensorboard` so two writers started in the same second never collide.
enum EventFileName {
    private static let counter = Atomic<Int>(0)

    static func make(date: Date = Date(), suffix: String = "") -> String {
        let seconds = Int(date.timeIntervalSince1970)
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let stamp =
            String(seconds).count >= 10
            ? String(seconds)
            : String(repeating: "0", count: 10 - String(seconds).count) + String(seconds)
        return "events.out.tfevents.\(stamp).\(host).\(pid).\(counter.add(1, ordering: .relaxed).oldValue)\(suffix)"
    }
}
