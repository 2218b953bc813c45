import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// `GET /health` says which precision the server runs at (`audiocnn serve --precision`), and
/// `POST /` runs at it: a bfloat16 server answers exactly what its classifier computes at
/// bfloat16, within 0.05 of the float32 server.
final class PrecisionRouteTests: XCTestCase {
    private func health(_ service: InferenceService) async throws -> [String: Any] {
        let response = try await service.withTestClient { client in try await client.execute(uri: "/health", method: .get) }
        XCTAssertEqual(response.status, .ok)
        return try decodeJSON(response.body)
    }

    /// The `(class, confidence)` pairs of a `POST /` response.
    private func predictions(_ service: InferenceService, _ clip: TestClip) async throws -> [Prediction] {
        let response = try await service.withTestClient { client in
            try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: clip.requestBody)
        }
        XCTAssertEqual(response.status, .ok)
        let rows = try XCTUnwrap(try decodeJSON(response.body)["predictions"] as? [[String: Any]])
        return try rows.map {
            Prediction(
                className: try XCTUnwrap($0["class"] as? String),
                confidence: Float(try XCTUnwrap(($0["confidence"] as? NSNumber)?.doubleValue)))
        }
    }

    func testHealthReportsFloat32ByDefault() async throws {
        let json = try await health(TestModel.shared.service())
        XCTAssertEqual(json["precision"] as? String, "fp32")
        // The keys before it are unchanged.
        XCTAssertEqual(json["status"] as? String, "ok")
        XCTAssertNotNil(json["model"] as? [String: Any])
        XCTAssertNotNil(json["limits"] as? [String: Any])
    }

    func testBFloat16ServerReportsAndRunsAtBFloat16() async throws {
        let model = TestModel.shared
        let bf16 = try AudioClassifier(checkpoint: model.url, precision: .bfloat16)
        let service = try InferenceService(classifier: bf16, configuration: ServerConfiguration())
        let json = try await health(service)
        XCTAssertEqual(json["precision"] as? String, "bf16")

        let clip = TestClip(seconds: 2, sampleRate: 44_100)
        let served = try await predictions(service, clip)
        let direct = try bf16.analyze(clip.wav).predictions
        XCTAssertEqual(served.map(\.className), direct.map(\.className))
        for (s, d) in zip(served, direct) { XCTAssertEqual(s.confidence, d.confidence, accuracy: 1e-6, s.className) }

        // Within 0.05 of the float32 server, with the same top class.
        let fp32 = try await predictions(model.service(), clip)
        XCTAssertEqual(served.first?.className, fp32.first?.className)
        let all = try bf16.predict(clip.wav, top: testClasses.count)
        for p in fp32 {
            let other = try XCTUnwrap(all.first { $0.className == p.className })
            XCTAssertEqual(other.confidence, p.confidence, accuracy: 0.05, p.className)
        }
    }
}
