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

    func testClaimingHandsOutEveryChunkOnce() {
        for count in [0, 1, 7, 64, 1001] {
            for chunk in [1, 3, 16, 5000] {
                for blocks in [1, 2, Parallel.workers + 3] {
                    let misplaced = Atomic<Int>(0)
                    assertEachIndexOnce(count, "claiming \(count) by \(chunk) on \(blocks)") { visit in
                        Parallel.claiming(count, chunk: chunk, blocks: blocks) { block, next in
                            if block < 0 || block >= blocks { misplaced.add(1, ordering: .relaxed) }
                            while let r = next() {
                                // Chunks start at multiples of `chunk`; only the last is shorter.
                                if r.lowerBound % chunk != 0 || (r.count != chunk && r.upperBound != count) {
                                    misplaced.add(1, ordering: .relaxed)
                                }
                                for i in r { visit(i) }
                            }
                        }
                    }
                    XCTAssertEqual(misplaced.load(ordering: .relaxed), 0, "\(count) by \(chunk) on \(blocks)")
                }
            }
        }
    }

    /// A worker that does not ask leaves every chunk to the others (a static split would have
    /// kept half of them for it).
    func testClaimingGoesToTheWorkersThatAsk() throws {
        guard WorkerPool.shared != nil else {
            throw XCTSkip("no worker pool here (one worker, more workers than processors, or TENSORKIT_WORKER_POOL=0)")
        }
        let count = 40
        let taken = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 2)
        for t in 0..<2 { (taken + t).initialize(to: Atomic(0)) }
        defer { taken.deinitialize(count: 2); taken.deallocate() }
        Parallel.claiming(count, chunk: 1, blocks: 2) { block, next in
            if block == 0 {
                // Wait (up to 10 s) for the other worker to take everything, then ask once.
                let deadline = Date().addingTimeInterval(10)
                while taken[1].load(ordering: .acquiring) < count, Date() < deadline { usleep(100) }
            }
            while next() != nil { taken[block].add(1, ordering: .releasing) }
        }
        XCTAssertEqual(taken[0].load(ordering: .relaxed), 0, "the waiting worker got chunks")
        XCTAssertEqual(taken[1].load(ordering: .relaxed), count, "the asking worker got every chunk")
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
