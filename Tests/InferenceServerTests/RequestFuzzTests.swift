import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import _TestSupport
@testable import AudioClassification
@testable import InferenceServer

/// The JSON + base64 request path never crashes: seeded mutants of valid bodies either yield
/// bytes or a 4xx ``APIError``; through the whole route, nothing answers 5xx.
final class RequestFuzzTests: XCTestCase {
    private func seeds() -> [[UInt8]] {
        let wav = TestClip(seconds: 0.05, sampleRate: 16_000).wav
        return [
            Array("{\"audio_data\": \"\(wav.base64EncodedString())\"}".utf8),
            Array("{\"audio_data\":\"data:audio/wav;base64,\(wav.base64EncodedString())\",\"extra\":[1,2,{\"a\":null}]}".utf8),
            Array("{\"audio_data\": \"UklGRiQAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YQAAAAA=\"}".utf8),
            Array("[{\"audio_data\": \"\\u00e9\\ud83d\\ude00\"}, 1e400, -0.0, true]".utf8),
        ]
    }

    func testSeededMutantsOfRequestBodiesParseOrGiveA4xx() throws {
        let seeds = seeds()
        var mutator = Mutator(seed: 0x5EED_B0D1)
        var parsed = 0, rejected = 0
        for step in 0..<4_000 {
            let body = mutator.mutant(of: seeds)
            do {
                let audio = try audioBytes(fromPredictRequestBody: body)
                XCTAssertFalse(audio.isEmpty, "step \(step)")
                parsed += 1
            } catch let error as APIError {
                XCTAssertTrue((400..<500).contains(error.status.code), "step \(step): \(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(rejected, 100)
    }

    func testSeededMutantsThroughTheRouteNeverGet5xx() async throws {
        let service = try TestModel.shared.service(ServerConfiguration(maximumBodyBytes: 200_000, maximumAudioSeconds: 5))
        let seeds = seeds()
        try await service.withTestClient { client in
            var mutator = Mutator(seed: 0xF00D)
            var statuses: [Int: Int] = [:]
            for step in 0..<300 {
                let body = mutator.mutant(of: seeds)
                let status = try await client.execute(
                    uri: "/", method: .post, headers: jsonHeaders,
                    body: ByteBuffer(bytes: body)
                ) { $0.status }
                XCTAssertTrue(status == .ok || (400..<500).contains(status.code), "step \(step): \(status)")
                statuses[status.code, default: 0] += 1
            }
            XCTAssertGreaterThan(statuses[200] ?? 0, 0)
            XCTAssertGreaterThan(statuses.count, 2, "\(statuses)")
        }
    }
}
