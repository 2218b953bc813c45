import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// Every kind of bad request gets its 4xx with a JSON error naming the problem, and the next
/// good request on the same server still succeeds.
final class BadRequestTests: XCTestCase {
    struct Case {
        let name: String
        let body: ByteBuffer
        let status: HTTPResponse.Status
        let code: String
        let detailMentions: String
    }

    func testEachBadRequestGetsItsErrorAndTheServerKeepsServing() async throws {
        let config = ServerConfiguration(maximumBodyBytes: 600_000, maximumAudioSeconds: 2)
        // The classifier allows 60 s; the server's configuration is what limits it to 2 s.
        let service = try InferenceService(classifier: TestModel.shared.classifier, configuration: config)
        let good = TestClip(seconds: 0.5, sampleRate: 44_100).requestBody
        let longClip = TestClip(seconds: 3, sampleRate: 16_000)  // 96 KB: under the body limit, over 2 s
        let hugeClip = TestClip(seconds: 6, sampleRate: 44_100)  // 529 KB of WAV, 706 KB of base64
        let cases = [
            Case(
                name: "not JSON", body: ByteBuffer(bytes: Array("audio=abc".utf8)), status: .badRequest, code: "invalid_json",
                detailMentions: "not valid JSON"),
            Case(name: "empty body", body: ByteBuffer(), status: .badRequest, code: "invalid_json", detailMentions: "empty"),
            Case(
                name: "missing field", body: jsonBody(["audio": "UklGRg=="]), status: .unprocessableContent, code: "missing_field",
                detailMentions: "audio_data"),
            Case(
                name: "field not a string", body: jsonBody(["audio_data": 42]), status: .unprocessableContent, code: "invalid_field",
                detailMentions: "string"),
            Case(
                name: "invalid base64", body: jsonBody(["audio_data": "not base64 at all!"]), status: .unprocessableContent,
                code: "invalid_base64", detailMentions: "base64"),
            Case(
                name: "empty audio", body: jsonBody(["audio_data": ""]), status: .unprocessableContent, code: "empty_audio",
                detailMentions: "empty"),
            Case(
                name: "not audio", body: jsonBody(["audio_data": Data("hello, this is not a sound file".utf8).base64EncodedString()]),
                status: .unprocessableContent, code: "invalid_audio", detailMentions: "not a recognised audio format"),
            Case(
                name: "too short", body: TestClip(seconds: 0.005, sampleRate: 44_100).requestBody, status: .unprocessableContent,
                code: "audio_too_short", detailMentions: "at least 513"),
            Case(
                name: "too long", body: longClip.requestBody, status: .contentTooLarge, code: "audio_too_long",
                detailMentions: "at most 2 s"),
            Case(
                name: "body too large", body: hugeClip.requestBody, status: .contentTooLarge, code: "body_too_large",
                detailMentions: "600000 bytes"),
        ]
        try await service.withTestClient { client in
            for c in cases {
                try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: c.body) { response in
                    XCTAssertEqual(response.status, c.status, c.name)
                    XCTAssertEqual(response.headers[.contentType], "application/json", c.name)
                    let json = try decodeJSON(response.body)
                    XCTAssertEqual(json["error"] as? String, c.code, c.name)
                    let detail = json["detail"] as? String ?? ""
                    XCTAssertTrue(detail.contains(c.detailMentions), "\(c.name): \(detail)")
                }
                try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: good) { response in
                    XCTAssertEqual(response.status, .ok, "good request after \(c.name)")
                    XCTAssertEqual((try decodeJSON(response.body)["predictions"] as? [Any])?.count, 3)
                }
            }
        }
    }

    func testInfoRoutesAndCORS() async throws {
        let service = try TestModel.shared.service()
        try await service.withTestClient { client in
            try await client.execute(uri: "/health", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let json = try decodeJSON(response.body)
                XCTAssertEqual(json["status"] as? String, "ok")
                XCTAssertEqual(json["classes"] as? Int, testClasses.count)
                XCTAssertEqual(json["sample_rate"] as? Int, 44_100)
            }
            try await client.execute(uri: "/classes", method: .get) { response in
                XCTAssertEqual(try decodeJSON(response.body)["classes"] as? [String], testClasses)
            }
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                let json = try decodeJSON(response.body)
                XCTAssertTrue((json["openapi"] as? String ?? "").hasPrefix("3."))
                let paths = try XCTUnwrap(json["paths"] as? [String: Any])
                XCTAssertEqual(Set(paths.keys), ["/", "/scan", "/health", "/classes", "/openapi.json"])
            }
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(response.headers[.contentType]?.hasPrefix("text/html") ?? false)
                XCTAssertTrue(String(buffer: response.body).contains("<script src=\"app.js\""))
            }
            for path in ["/app.js", "/style.css"] {
                try await client.execute(uri: path, method: .get) { XCTAssertEqual($0.status, .ok, path) }
            }
            // A page on another origin calling the API: simple request and preflight.
            try await client.execute(uri: "/classes", method: .get, headers: [.origin: "http://localhost:3000"]) { response in
                XCTAssertEqual(response.headers[.accessControlAllowOrigin], "*")
            }
            try await client.execute(
                uri: "/", method: .options,
                headers: [
                    .origin: "http://localhost:3000", .accessControlRequestMethod: "POST",
                    .accessControlRequestHeaders: "content-type",
                ]
            ) { response in
                XCTAssertTrue([.ok, .noContent].contains(response.status))
                XCTAssertEqual(response.headers[.accessControlAllowOrigin], "*")
                XCTAssertTrue(response.headers[.accessControlAllowMethods]?.contains("POST") ?? false)
            }
        }
    }

    func testPoolRefusesWhenQueueIsFull() async throws {
        let pool = InferencePool(width: 1, queueLimit: 1)
        let gate = DispatchSemaphore(value: 0)
        let first = Task {
            try await pool.run {
                gate.wait(); return 1
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let second = Task { try await pool.run { 2 } }
        try await Task.sleep(for: .milliseconds(100))
        do {
            _ = try await pool.run { 3 }
            XCTFail("a third job should be refused while one runs and one waits")
        } catch InferencePool.PoolError.busy(let waiting) {
            XCTAssertEqual(waiting, 1)
        }
        gate.signal()
        let a = try await first.value, b = try await second.value
        XCTAssertEqual([a, b], [1, 2])
        let c = try await pool.run { 4 }
        XCTAssertEqual(c, 4)
    }
}
