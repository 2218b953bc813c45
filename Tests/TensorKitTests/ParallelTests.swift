import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import TensorKit

/// `Parallel` over TensorKit's `WorkerPool`: every index exactly once, whoever calls and however
/// the calls nest or overlap, and the pool's helpers really run parts (the pool is not a
/// serial loop in disguise).
final class ParallelTests: XCTestCase {
    /// Counts calls per index; fails on any index visited twice or never.
    private func assertEachIndexOnce(
        _ count: Int, _ what: String, run: (_ visit: (Int) -> Void) -> Void,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let hits = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count)
        for i in 0..<count { (hits + i).initialize(to: Atomic(0)) }
        defer { hits.deinitialize(count: count); hits.deallocate() }
        run { i in hits[i].add(1, ordering: .relaxed) }
        for i in 0..<count where hits[i].load(ordering: .relaxed) != 1 {
            XCTFail("\(what): index \(i) visited \(hits[i].load(ordering: .relaxed)) times", file: file, line: line)
            return
        }
    }

    func testForRangeAndBlocksCoverEveryIndexOnce() {
        for count in [1, 2, 3, 7, 64, 1001] {
            assertEachIndexOnce(count, "forRange \(count)") { visit in
                Parallel.forRange(count, grain: 1) { lo, hi in for i in lo..<hi { visit(i) } }
            }
            for blocks in [1, 2, Parallel.workers, Parallel.workers + 3] {
                assertEachIndexOnce(count, "blocks \(count) in \(blocks)") { visit in
                    Parallel.blocks(count, blocks: blocks) { _, lo, hi in for i in lo..<hi { visit(i) } }
                }
            }
        }
    }

    /// A region inside a region (the pool is busy: the inner one goes to `concurrentPerform`).
    func testNestedRegions() {
        assertEachIndexOnce(40 * 40, "nested") { visit in
            Parallel.forRange(40, grain: 1) { lo, hi in
                for i in lo..<hi {
                    Parallel.forRange(40, grain: 1) { l2, h2 in for j in l2..<h2 { visit(i * 40 + j) } }
                }
            }
        }
    }

    /// Regions started from several threads at once, many times over (hand-offs between the
    /// pool and the fallback, and helpers going to sleep and waking up in between).
    func testConcurrentCallersAndSleepingHelpers() {
        let threads = 4, rounds = 200, count = 97
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for round in 0..<rounds {
                let hits = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count)
                for i in 0..<count { (hits + i).initialize(to: Atomic(0)) }
                Parallel.forRange(count, grain: 1) { lo, hi in for i in lo..<hi { hits[i].add(1, ordering: .relaxed) } }
                for i in 0..<count where hits[i].load(ordering: .relaxed) != 1 { failures.add(1, ordering: .relaxed) }
                hits.deinitialize(count: count)
                hits.deallocate()
                // Now and then wait past the helpers' spin time, so they go to sleep.
                if (round + t) % 50 == 0 { usleep(UInt32(WorkerPool.spinSeconds * 4e6)) }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0, "indices not visited exactly once")
    }

    func testHelpersRunParts() throws {
        guard let pool = WorkerPool.shared else {
            throw XCTSkip("no worker pool here (one worker, more workers than processors, or TENSORKIT_WORKER_POOL=0)")
        }
        let caller = pthread_self()
        let onOtherThreads = Atomic<Int>(0)
        let ran = pool.run(Parallel.workers) { _ in
            if pthread_equal(pthread_self(), caller) == 0 { onOtherThreads.add(1, ordering: .relaxed) }
        }
        XCTAssertTrue(ran, "the pool was free")
        XCTAssertEqual(onOtherThreads.load(ordering: .relaxed), Parallel.workers - 1, "one part per helper thread")
    }
}
