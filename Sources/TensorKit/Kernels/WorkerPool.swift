import _TensorKitGEMM
import Foundation
import Synchronization

/// TensorKit's threads for ``Parallel``: `workers − 1` persistent helpers that spin for a short
/// while after each parallel region before they sleep, with the calling thread doing part 0.
///
/// Why not `DispatchQueue.concurrentPerform` alone: a batch-1 forward pass of ResNet-34 is
/// ~110 parallel regions of 50-500 µs each, and waking a sleeping dispatch thread for each one
/// (futex wake, schedule, and the caller's wait for the slowest part) left a core idle for a
/// noticeable share of the pass. Helpers that are still spinning when the next region starts
/// pick it up within a microsecond, as OpenMP's threads do for PyTorch. They spin for at most
/// ``spinSeconds`` after a region, then block, so an idle process does not burn CPU.
///
/// The pool serves one region at a time. A region started while it is busy (another thread's
/// region, or a region nested inside one) runs on `concurrentPerform` instead, as before.
final class WorkerPool: @unchecked Sendable {
    /// The pool, when there is more than one worker and no more workers than processors (spinning
    /// threads on an oversubscribed machine would take turns instead of working together).
    static let shared: WorkerPool? = {
        let workers = KernelConfiguration.environment.threads
        guard workers > 1, workers <= ProcessInfo.processInfo.activeProcessorCount,
            KernelConfiguration.workerPoolEnabled
        else { return nil }
        return WorkerPool(helpers: workers - 1)
    }()

    /// How long a helper keeps spinning after a region before it sleeps.
    static let spinSeconds = 0.000_5

    private let helpers: Int
    /// Bumped to start a region; helpers run their part for each new value.
    private let generation = Atomic<Int>(0)
    /// Helpers that have not finished the current region.
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = NSCondition()
    /// The current region, written before `generation` is bumped (release) and read after it
    /// is seen (acquire); cleared after every helper has decremented `pending`.
    private var job: ((Int) -> Void)? = nil
    private var parts = 0

    private init(helpers: Int) {
        self.helpers = helpers
        for index in 1...helpers {
            let thread = Thread { [unowned self] in self.helperLoop(index) }
            thread.name = "TensorKit worker \(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The most parts one region can have: the helpers and the calling thread.
    var capacity: Int { helpers + 1 }

    /// Calls `body(t)` for `t` in `0..<parts` (at most ``capacity``) in parallel and returns
    /// when all are done; `false` (nothing run) when the pool is busy.
    func run(_ parts: Int, _ body: (Int) -> Void) -> Bool {
        precondition(parts >= 1 && parts <= helpers + 1, "WorkerPool: \(parts) parts for \(helpers + 1) workers")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        return withoutActuallyEscaping(body) { escapable in
            job = escapable
            self.parts = parts
            pending.store(helpers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            escapable(0)
            // Wait for the helpers; yield now and then in case one of them lost its core.
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins & 1023 == 0 { sched_yield() } else { tk_cpu_relax() }
            }
            job = nil
            return true
        }
    }

    private func helperLoop(_ index: Int) {
        var seen = 0
        while true {
            var current = generation.load(ordering: .acquiring)
            if current == seen {
                let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.spinSeconds * 1e9)
                var spins = 0
                while current == seen {
                    tk_cpu_relax()
                    spins += 1
                    if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds > deadline {
                        // Sleep. The sleeper count is raised before the generation is checked
                        // again, and the starter bumps the generation before it reads the count,
                        // so one of the two always sees the other.
                        wakeUp.lock()
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        while generation.load(ordering: .sequentiallyConsistent) == seen { wakeUp.wait() }
                        sleepers.subtract(1, ordering: .sequentiallyConsistent)
                        wakeUp.unlock()
                    }
                    current = generation.load(ordering: .acquiring)
                }
            }
            seen = current
            if index < parts, let job { job(index) }
            pending.subtract(1, ordering: .releasing)
        }
    }
}
