import Foundation
import Hummingbird
import Logging
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// A blocking TCP connection to the loopback server that sends exactly the bytes it is given.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, status == 0 else { throw POSIXError(.ECONNREFUSED) }
        // Reads give up after 10 s so a server that never answers fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Closes both directions now (the server sees end of input), as a client that gives up does.
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sends `bytes`; false once the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything the server sends until it closes the connection or `limit` bytes arrived;
    /// nil when the read timed out with the connection still open.
    func readUntilClosed(limit: Int = 1 << 20) -> [UInt8]? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.count < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return received }
            if n < 0 { return nil }
            received += buffer[0..<n]
        }
        return received
    }

    /// Bytes received until `text` appears in them, the server closes, or a read times out.
    func read(until text: String) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !String(decoding: received, as: UTF8.self).contains(text) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// One complete `POST /` with a JSON body; returns the status code of the response.
    static func post(port: Int, body: [UInt8]) throws -> Int {
        let connection = try RawConnection(port: port)
        let head =
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        connection.send(Array(head.utf8) + body)
        let response = connection.readUntilClosed() ?? []
        let statusLine = String(decoding: response.prefix(12), as: UTF8.self)
        return Int(statusLine.dropFirst(9).prefix(3)) ?? 0
    }
}

/// The request deadline over real sockets: a client trickling its headers or body is cut off
/// after `requestTimeout`, while other clients keep being served.
final class SlowClientTests: XCTestCase {
    private func withServer(timeout: Double, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withRunningServer(ServerConfiguration(port: 0, requestTimeout: timeout)) { port, _ in try await body(port) }
    }

    func testSlowHeadersAndSlowBodyAreCutOffWhileOthersAreServed() async throws {
        let good = Array(TestClip(seconds: 0.5, sampleRate: 44_100).requestBody.readableBytesView)
        try await withServer(timeout: 1) { port in
            for phase in ["headers", "body"] {
                let slow = try RawConnection(port: port)
                let head = Array(
                    "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n".utf8)
                let start = Date()
                // A slow-loris client: one byte every 100 ms, for up to 8 s.
                let trickle = Task.detached {
                    var sent = 0
                    let bytes = phase == "headers" ? head : head + [UInt8](repeating: UInt8(ascii: " "), count: 100_000)
                    if phase == "body" { slow.send(head); sent = head.count }
                    while sent < bytes.count, Date().timeIntervalSince(start) < 8 {
                        guard slow.send([bytes[sent]]) else { return }
                        sent += 1
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                // Meanwhile another client is served.
                XCTAssertEqual(try RawConnection.post(port: port, body: good), 200, phase)
                let answer = slow.readUntilClosed()
                let elapsed = Date().timeIntervalSince(start)
                trickle.cancel()
                XCTAssertNotNil(answer, "\(phase): the slow connection must be closed, not left open")
                XCTAssertEqual(answer?.count, 0, "\(phase): closed without a response")
                XCTAssertGreaterThanOrEqual(elapsed, 0.9, phase)
                XCTAssertLessThan(elapsed, 6, "\(phase): closed after the 1 s request timeout, not when the client gave up")
            }
            // And after both, the server still answers.
            XCTAssertEqual(try RawConnection.post(port: port, body: good), 200)
        }
    }

    /// A `Content-Length` over the limit is answered 413 at once, without waiting for the body
    /// (HummingbirdTesting's in-process client rewrites the header, so this needs a socket).
    func testDeclaredLengthOverTheLimitIsRefusedBeforeTheBody() async throws {
        try await withServer(timeout: 30) { port in
            let connection = try RawConnection(port: port)
            let start = Date()
            connection.send(
                Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{".utf8))
            let response = connection.read(until: "body_too_large")
            XCTAssertTrue(response.hasPrefix("HTTP/1.1 413"), response)
            XCTAssertTrue(response.contains("body_too_large"), response)
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, "answered before the 30 s request timeout")
        }
    }

    func testIdleKeepAliveConnectionIsClosedButAPromptOneIsServed() async throws {
        let good = Array(TestClip(seconds: 0.5, sampleRate: 44_100).requestBody.readableBytesView)
        try await withServer(timeout: 1) { port in
            // A request sent at once on a fresh connection is unaffected by the deadline, even
            // though its inference may outlast it.
            XCTAssertEqual(try RawConnection.post(port: port, body: good), 200)
            let idle = try RawConnection(port: port)
            let start = Date()
            XCTAssertEqual(idle.readUntilClosed()?.count, 0)
            XCTAssertLessThan(Date().timeIntervalSince(start), 6)
        }
    }
}
