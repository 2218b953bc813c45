import _Locking
import Dispatch
import Foundation
import Hummingbird
import Logging
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// Requests whose client hangs up while they wait for the model, over real sockets: they leave
/// the queue at once and are never computed, so they cannot lock new clients out with 503s.
final class OrphanedRequestTests: XCTestCase {
    private func withServer(
        _ configuration: ServerConfiguration,
        _ body: @escaping @Sendable (Int, InferenceService) async throws -> Void
    ) async throws {
        try await withRunningServer(configuration, body)
    }

    /// `GET /health`'s `inference` object, read over a socket like any client would.
    private static func counters(port: Int) throws -> [String: Int] {
        let connection = try RawConnection(port: port)
        connection.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        let response = String(decoding: connection.readUntilClosed() ?? [], as: UTF8.self)
        let body = try XCTUnwrap(response.range(of: "\r\n\r\n")).upperBound
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response[body...].utf8)) as? [String: Any])
        return try XCTUnwrap(json["inference"] as? [String: Int], "\(json)")
    }

    /// Polls `/health` until `condition` holds; fails after `seconds`.
    private static func waitFor(
        _ what: String, seconds: Double = 10, port: Int,
        _ condition: ([String: Int]) -> Bool
    ) async throws -> [String: Int] {
        let start = Date()
        var last: [String: Int] = [:]
        while Date().timeIntervalSince(start) < seconds {
            last = try counters(port: port)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("timed out after \(seconds) s waiting for \(what); last /health inference: \(last)")
        return last
    }

    private static func postHead(_ body: [UInt8], close: Bool) -> [UInt8] {
        Array(
            ("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n").utf8) + body
    }

    func testClientsThatHangUpLeaveTheQueueAndAreNeverComputed() async throws {
        let queueLimit = 4
        let good = Array(TestClip(seconds: 0.5, sampleRate: 44_100).requestBody.readableBytesView)
        try await withServer(ServerConfiguration(port: 0, concurrency: 1, queueLimit: queueLimit)) { port, service in
            // The model's one slot is held by a job the test controls, so nothing in the queue can
            // run until the gate opens: whatever leaves the queue before then was not computed.
            let gate = DispatchSemaphore(value: 0)
            let blocker = Task { try await service.pool.run { gate.wait() } }
            _ = try await Self.waitFor("the blocking job to run", port: port) { $0["running"] == 1 }

            // Clients send a complete request, then wait in the queue until it is full.
            var orphans: [RawConnection] = []
            for _ in 0..<queueLimit {
                let connection = try RawConnection(port: port)
                connection.send(Self.postHead(good, close: false))
                orphans.append(connection)
            }
            _ = try await Self.waitFor("\(queueLimit) requests to wait", port: port) { $0["waiting"] == queueLimit }

            // A full queue refuses more at once, and says when to retry.
            let refused = try RawConnection(port: port)
            refused.send(Self.postHead(good, close: true))
            let answer = String(decoding: refused.readUntilClosed() ?? [], as: UTF8.self)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503"), answer)
            XCTAssertTrue(answer.lowercased().contains("\r\nretry-after: 1\r\n"), answer)

            // Every waiting client gives up (closes its socket, as wrk or a browser timing out does).
            let hungUp = Date()
            for orphan in orphans { orphan.hangUp() }
            let drained = try await Self.waitFor("the abandoned requests to leave the queue", port: port) {
                $0["waiting"] == 0 && $0["skipped"] == queueLimit
            }
            XCTAssertLessThan(Date().timeIntervalSince(hungUp), 5, "the queue empties when the clients leave, not later")
            // Still nothing computed: the slot is held by the blocker throughout.
            XCTAssertEqual(drained["completed"], 0, "\(drained)")
            XCTAssertEqual(drained["running"], 1, "\(drained)")

            // A new client now gets a place in the queue instead of 503, and its answer as soon as
            // the slot frees, without waiting for the orphans.
            let fresh = Task.detached { try RawConnection.post(port: port, body: good) }
            _ = try await Self.waitFor("the new request to queue", port: port) { $0["waiting"] == 1 }
            gate.signal()
            try await blocker.value
            let status = try await fresh.value
            XCTAssertEqual(status, 200)
            let final = try Self.counters(port: port)
            XCTAssertEqual(final["completed"], 2, "the blocker and the new request, none of the \(queueLimit) orphans: \(final)")
            XCTAssertEqual(final["skipped"], queueLimit, "\(final)")
            XCTAssertEqual(final["refused"], 1, "\(final)")
            XCTAssertEqual(final["waiting"], 0, "\(final)")
            XCTAssertEqual(final["running"], 0, "\(final)")
        }
    }

    /// A client that closes only its sending side is treated as gone as well (nginx's 499 rule):
    /// the request is skipped and the connection closed without an answer.
    func testHalfClosedClientIsTreatedAsGone() async throws {
        let good = Array(TestClip(seconds: 0.5, sampleRate: 44_100).requestBody.readableBytesView)
        try await withServer(ServerConfiguration(port: 0, concurrency: 1, queueLimit: 2)) { port, service in
            let gate = DispatchSemaphore(value: 0)
            let blocker = Task { try await service.pool.run { gate.wait() } }
            _ = try await Self.waitFor("the blocking job to run", port: port) { $0["running"] == 1 }
            let client = try RawConnection(port: port)
            client.send(Self.postHead(good, close: false))
            _ = try await Self.waitFor("the request to wait", port: port) { $0["waiting"] == 1 }
            shutdown(client.fd, Int32(SHUT_WR))
            _ = try await Self.waitFor("the request to be skipped", port: port) { $0["waiting"] == 0 && $0["skipped"] == 1 }
            gate.signal()
            try await blocker.value
            let answer = client.readUntilClosed()
            XCTAssertNotNil(answer, "the connection is closed, not left open")
            XCTAssertFalse(String(decoding: answer ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            XCTAssertEqual(try RawConnection.post(port: port, body: good), 200, "the server still serves")
        }
    }
}

/// Which jobs ran, in order, from any thread.
private final class RunLog: Sendable {
    private let state = Locked<[Int]>([])
    func append(_ value: Int) { state.withLock { $0.append(value) } }
    var values: [Int] { state.withLock { $0 } }
}

/// The pool's own handling of cancelled callers, without HTTP.
final class InferencePoolCancellationTests: XCTestCase {
    func testCancelledWaiterLeavesTheQueueAndTheNextOneRuns() async throws {
        let pool = InferencePool(width: 1, queueLimit: 2)
        let gate = DispatchSemaphore(value: 0)
        let ran = RunLog()
        let first = Task {
            try await pool.run {
                gate.wait(); ran.append(1)
            }
        }
        while await pool.counters.running < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { try await pool.run { ran.append(2) } }
        while await pool.counters.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let third = Task { try await pool.run { ran.append(3) } }
        while await pool.counters.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }

        second.cancel()
        do {
            try await second.value
            XCTFail("a cancelled waiter must not run")
        } catch is CancellationError {}
        let afterCancel = await pool.counters
        XCTAssertEqual(afterCancel.waiting, 1)
        XCTAssertEqual(afterCancel.skipped, 1)

        gate.signal()
        try await first.value
        try await third.value
        XCTAssertEqual(ran.values, [1, 3])
        let end = await pool.counters
        XCTAssertEqual(end, InferencePool.Counters(completed: 2, skipped: 1, refused: 0, running: 0, waiting: 0))
    }

    func testTaskCancelledBeforeCallingIsSkippedWithoutRunning() async throws {
        let pool = InferencePool(width: 1, queueLimit: 0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { 1 }
        }
        do {
            _ = try await task.value
            XCTFail("a job whose task is already cancelled must not run")
        } catch is CancellationError {}
        let counters = await pool.counters
        XCTAssertEqual(counters.completed, 0)
        XCTAssertEqual(counters.skipped, 1)
        XCTAssertEqual(counters.running, 0, "its slot is released")
        let next = try await pool.run { 2 }
        XCTAssertEqual(next, 2)
    }
}
