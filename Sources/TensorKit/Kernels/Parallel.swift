import Dispatch
import Foundation
import Synchronization

/// Spreads loops over the machine's cores.
///
/// TensorKit does its own threading (OpenBLAS runs single-threaded inside each of TensorKit's
/// workers; see `BLAS.swift`), so exactly one pool of busy threads competes for the cores.
enum Parallel {
    /// Worker count of the calling context: ``KernelConfiguration/threads`` of
    /// ``KernelConfiguration/current`` (all cores, or `TENSORKIT_NUM_THREADS`).
    static var workers: Int { KernelConfiguration.current.threads }

    /// Calls `body(lo, hi)` on disjoint ranges covering `0..<count`, in parallel when there is at
    /// least `grain` work per worker. `cost` is the work per index in arbitrary units (elements).
    @inline(__always)
    static func forRange(_ count: Int, grain: Int = 32_768, cost: Int = 1, _ body: (Int, Int) -> Void) {
        let w = min(workers, max(1, (count * cost) / grain), count)
        if w <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        run(w) { t in
            let lo = count * t / w, hi = count * (t + 1) / w
            if hi > lo { body(lo, hi) }
        }
    }

    /// Calls `body(t)` for `t` in `0..<parts` in parallel: on TensorKit's ``WorkerPool`` when
    /// it is free and large enough, else on `concurrentPerform`. A configuration scoped with
    /// `KernelConfiguration.withCurrent(_:_:)` is current in every part.
    private static func run(_ parts: Int, _ body: (Int) -> Void) {
        if let scoped = KernelConfiguration.scoped {
            // Helper threads are outside the caller's task: bind the caller's configuration there.
            withoutActuallyEscaping(body) { body in
                runUnscoped(parts) { t in KernelConfiguration.$scoped.withValue(scoped) { body(t) } }
            }
        } else {
            runUnscoped(parts, body)
        }
    }

    private static func runUnscoped(_ parts: Int, _ body: (Int) -> Void) {
        if let pool = WorkerPool.shared, parts <= pool.capacity, pool.run(parts, body) { return }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { t in box.value(t) }
        }
    }

    /// How many blocks ``blocks(_:count:_:)`` will use for `count` items of `cost` work each.
    static func blockCount(_ count: Int, grain: Int = 1, cost: Int = 1) -> Int {
        max(1, min(workers, max(1, (count * cost) / grain), count))
    }

    /// Calls `body(block, lo, hi)` for `blocks` contiguous, disjoint ranges covering
    /// `0..<count`, in parallel; `block` lets each worker own private scratch space.
    static func blocks(_ count: Int, blocks: Int, _ body: (Int, Int, Int) -> Void) {
        if blocks <= 1 {
            if count > 0 { body(0, 0, count) }
            return
        }
        run(blocks) { t in
            let lo = count * t / blocks, hi = count * (t + 1) / blocks
            if hi > lo { body(t, lo, hi) }
        }
    }

    /// Calls `body(block, next)` on `blocks` workers, each of which calls `next()` for ranges of
    /// `0..<count`, `chunk` items long (the last shorter), until it returns `nil`: the ranges go
    /// to whichever worker asks first, so a worker slowed down (by another process on its core)
    /// takes fewer of them instead of keeping the others waiting at the end. The ranges are the
    /// same whoever runs them; `block` lets each worker own private scratch space.
    static func claiming(
        _ count: Int, chunk: Int, blocks: Int, _ body: (_ block: Int, _ next: () -> Range<Int>?) -> Void
    ) {
        let chunk = max(chunk, 1)
        if blocks <= 1 {
            var lo = 0
            body(0) {
                guard lo < count else { return nil }
                defer { lo += chunk }
                return lo..<min(lo + chunk, count)
            }
            return
        }
        let claimed = Atomic<Int>(0)
        run(blocks) { t in
            body(t) {
                let lo = claimed.wrappingAdd(chunk, ordering: .relaxed).oldValue
                return lo < count ? lo..<min(lo + chunk, count) : nil
            }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count`, distributed over the workers in contiguous
    /// blocks (one block per worker), for coarse items such as images of a batch.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forRange(count, grain: 1) { lo, hi in for i in lo..<hi { body(i) } }
    }
}

/// Carries a value into a `@Sendable` closure when the code guarantees the accesses are
/// disjoint (each worker writes its own range).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
