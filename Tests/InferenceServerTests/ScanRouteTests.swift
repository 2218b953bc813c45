import AudioDSP
import _TestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// `POST /scan` returns the windows `AudioClassifier.scan` computes, and `POST /` with `start`
/// and `end` analyses one window as the page asks when a window of the timeline is clicked.
final class ScanRouteTests: XCTestCase {
    func testScanReturnsEveryWindowAndASegmentIsThatWindowAlone() async throws {
        let model = TestModel.shared
        let clip = TestClip(seconds: 7.2, sampleRate: 22_050, seed: 4)
        let service = try model.service()
        let audio = clip.wav.base64EncodedString()
        let (scanned, segment, bad) = try await service.withTestClient { client in
            let scanned = try await client.execute(
                uri: "/scan", method: .post, headers: jsonHeaders, body: jsonBody(["audio_data": audio, "window": 3, "hop": 2]))
            let segment = try await client.execute(
                uri: "/", method: .post, headers: jsonHeaders, body: jsonBody(["audio_data": audio, "start": 4.2, "end": 7.2]))
            let bad = try await client.execute(
                uri: "/", method: .post, headers: jsonHeaders, body: jsonBody(["audio_data": audio, "start": 5, "end": 2]))
            return (scanned, segment, bad)
        }
        XCTAssertEqual(scanned.status, .ok)
        let json = try decodeJSON(scanned.body)
        XCTAssertEqual(json["classes"] as? [String], testClasses)
        XCTAssertEqual((json["duration"] as? NSNumber)?.doubleValue ?? 0, 7.2, accuracy: 1e-9)
        let windows = try XCTUnwrap(json["windows"] as? [[String: Any]])
        let direct = try model.classifier.scan(samples: clip.samples, sampleRate: 22_050, options: ScanOptions(window: 3, hop: 2))
        XCTAssertEqual(windows.map { ($0["start"] as? NSNumber)?.doubleValue }, [0, 2, 4, 4.2])
        for (served, window) in zip(windows, direct.windows) {
            let p = try XCTUnwrap(served["probabilities"] as? [NSNumber]).map { $0.floatValue }
            assertAllClose(p, window.probabilities, rtol: 1e-5, "window at \(window.start) s")
        }

        // The last window, analysed alone through POST /: the same probabilities as in the scan.
        XCTAssertEqual(segment.status, .ok)
        let predictions = try XCTUnwrap(decodeJSON(segment.body)["predictions"] as? [[String: Any]])
        let last = try XCTUnwrap(direct.windows.last)
        for p in predictions {
            let index = try XCTUnwrap(testClasses.firstIndex(of: XCTUnwrap(p["class"] as? String)))
            XCTAssertEqual(try XCTUnwrap(p["confidence"] as? NSNumber).floatValue, last.probabilities[index], accuracy: 1e-5)
        }
        let waveform = try XCTUnwrap(decodeJSON(segment.body)["waveform"] as? [String: Any])
        XCTAssertEqual((waveform["duration"] as? NSNumber)?.doubleValue ?? 0, 3, accuracy: 1e-3)

        XCTAssertEqual(bad.status, .unprocessableContent)
        XCTAssertEqual(try decodeJSON(bad.body)["error"] as? String, "invalid_field")
    }
}
