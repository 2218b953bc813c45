import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// Concurrent requests through real sockets (AsyncHTTPClient, one connection each) all succeed, each with the answer it gets alone,
/// and requests beyond the queue limit are refused with 503 rather than piling up.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentRequestsGetTheirOwnAnswers() async throws {
        let model = TestModel.shared
        let service = try model.service(ServerConfiguration(concurrency: 1, queueLimit: 16))
        let clips = (0..<6).map { TestClip(seconds: 0.4 + 0.1 * Double($0), sampleRate: 44_100, seed: UInt64(100 + $0)) }
        let expected = try clips.map { try model.classifier.predict($0.wav, top: 3).map(\.className) }
        let bodies = clips.map(\.requestBody)
        let answers = try await Application(router: service.router()).test(.ahc(.http)) { client in
            try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for (i, body) in bodies.enumerated() {
                    group.addTask {
                        let response = try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: body)
                        XCTAssertEqual(response.status, .ok)
                        let json = try decodeJSON(response.body)
                        return (i, (json["predictions"] as? [[String: Any]] ?? []).compactMap { $0["class"] as? String })
                    }
                }
                var out = [[String]](repeating: [], count: bodies.count)
                for try await (i, classes) in group { out[i] = classes }
                return out
            }
        }
        XCTAssertEqual(answers, expected)
    }

    func testRequestsBeyondTheQueueGet503() async throws {
        let service = try TestModel.shared.service(ServerConfiguration(concurrency: 1, queueLimit: 0))
        let body = TestClip(seconds: 6, sampleRate: 44_100).requestBody
        let statuses = try await Application(router: service.router()).test(.ahc(.http)) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: body).status }
                }
                var all: [HTTPResponse.Status] = []
                for try await status in group { all.append(status) }
                return all
            }
        }
        // One runs; with no queue, requests arriving while it runs are refused.
        XCTAssertTrue(statuses.contains(.ok), "\(statuses)")
        XCTAssertTrue(statuses.allSatisfy { $0 == .ok || $0 == .serviceUnavailable }, "\(statuses)")
        XCTAssertTrue(statuses.contains(.serviceUnavailable), "\(statuses)")
    }
}
