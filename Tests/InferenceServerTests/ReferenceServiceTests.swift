import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import _TestSupport
@testable import AudioClassification
@testable import InferenceServer

/// The response equals the reference PyTorch service's for the same checkpoint (exported from
/// PyTorch) and clip: Tests/Fixtures/InferenceServer/reference_response.json, written by
/// Scripts/fixtures/make_inference_server_fixtures.py with torch, soundfile and librosa.
final class ReferenceServiceTests: XCTestCase {
    /// The fixture script's clip: 1 s at 22,050 Hz of `0.3 sin(2π(300t + 900t²)) + 0.2 sin(2π·2000t)`
    /// plus 0.05 × uniform noise from the 32-bit LCG `x ← 1664525x + 1013904223` (seed 1), 16-bit
    /// by truncation.
    static func referenceClip() -> Data {
        let rate = 22_050
        var x: UInt32 = 1
        let pcm: [Int16] = (0..<rate).map { i in
            let t = Double(i) / Double(rate)
            x = 1_664_525 &* x &+ 1_013_904_223
            let noise = Double(x) / 4_294_967_296 - 0.5
            let v = 0.3 * sin(2 * .pi * (300 * t + 900 * t * t)) + 0.2 * sin(2 * .pi * 2_000 * t) + 0.05 * noise
            return Int16(max(-1, min(1, v)) * 32_767)
        }
        return WAV.pcm16([pcm], sampleRate: rate)
    }

    func testResponseMatchesTheReferenceService() async throws {
        let reference = try XCTUnwrap(
            JSONSerialization.jsonObject(
                with: Data(contentsOf: Fixtures.url("InferenceServer", "reference_response.json"))) as? [String: Any])
        let classifier = try AudioClassifier(checkpoint: Fixtures.url("ResNetAudio", "small_exported.safetensors"))
        let service = try InferenceService(classifier: classifier, configuration: ServerConfiguration())
        let body = jsonBody(["audio_data": Self.referenceClip().base64EncodedString()])
        let response = try await service.withTestClient { client in
            try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: body)
        }
        XCTAssertEqual(response.status, .ok)
        let ours = try decodeJSON(response.body)
        XCTAssertEqual(Set(ours.keys), Set(reference.keys))

        // Predictions: same classes in the same order, same probabilities (relative, they span 1e-9…1).
        let p = try XCTUnwrap(ours["predictions"] as? [[String: Any]])
        let q = try XCTUnwrap(reference["predictions"] as? [[String: Any]])
        XCTAssertEqual(p.map { $0["class"] as? String }, q.map { $0["class"] as? String })
        for (a, b) in zip(p, q) {
            let x = try XCTUnwrap(a["confidence"] as? NSNumber).doubleValue, y = try XCTUnwrap(b["confidence"] as? NSNumber).doubleValue
            XCTAssertEqual(x, y, accuracy: 1e-2 * y + 1e-7)
        }

        // Every feature map: same names, shapes and channel means. The log-Mel agrees with
        // torchaudio to 0.01 dB only within 80 dB of the peak; the nearly empty lowest Mel bands sit
        // at the 1e-10 floor, where float32 rounding moves dB values by whole units in any two
        // implementations, and the network carries that into the maps' bottom rows. So: worst
        // element within 1% of the map's range, mean within 0.2%.
        let v = try XCTUnwrap(ours["visualization"] as? [String: [String: Any]])
        let w = try XCTUnwrap(reference["visualization"] as? [String: [String: Any]])
        XCTAssertEqual(Set(v.keys), Set(w.keys))
        for (name, ref) in w {
            let mine = try XCTUnwrap(v[name], name)
            XCTAssertEqual(mine["shape"] as? [Int], ref["shape"] as? [Int], name)
            assertClose(mine["values"], ref["values"], worst: 1e-2, mean: 2e-3, name)
        }

        // Input spectrogram: within 0.01 dB on bins within 80 dB of the peak (AudioDSP's own
        // bound against torchaudio), and the same shape.
        let s = try XCTUnwrap(ours["input_spectrogram"] as? [String: Any])
        let t = try XCTUnwrap(reference["input_spectrogram"] as? [String: Any])
        XCTAssertEqual(s["shape"] as? [Int], t["shape"] as? [Int])
        let mineRows = try XCTUnwrap(s["values"] as? [[Double]]), refRows = try XCTUnwrap(t["values"] as? [[Double]])
        let peak = refRows.joined().max()!
        var worst = 0.0
        for (a, b) in zip(mineRows.joined(), refRows.joined()) where b > peak - 80 { worst = max(worst, abs(a - b)) }
        XCTAssertLessThan(worst, 0.01, "spectrogram differs by \(worst) dB")

        // Waveform: soxr (ours) and librosa's soxr_hq agree to float precision.
        let a = try XCTUnwrap(ours["waveform"] as? [String: Any]), b = try XCTUnwrap(reference["waveform"] as? [String: Any])
        XCTAssertEqual(a["sample_rate"] as? Int, b["sample_rate"] as? Int)
        XCTAssertEqual(try XCTUnwrap(a["duration"] as? Double), try XCTUnwrap(b["duration"] as? Double), accuracy: 1e-12)
        let x = try XCTUnwrap(a["values"] as? [Double]), y = try XCTUnwrap(b["values"] as? [Double])
        XCTAssertEqual(x.count, y.count)
        XCTAssertLessThan(zip(x, y).map { abs($0 - $1) }.max() ?? 1, 1e-4)
    }

    private func assertClose(
        _ a: Any?, _ b: Any?, worst worstTolerance: Double, mean meanTolerance: Double, _ name: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let x = a as? [[Double]], let y = b as? [[Double]] else { return XCTFail("\(name): not a matrix", file: file, line: line) }
        let flatX = Array(x.joined()), flatY = Array(y.joined())
        XCTAssertEqual(flatX.count, flatY.count, name, file: file, line: line)
        let range = max(flatY.map(abs).max() ?? 0, 1e-6)
        let errors = zip(flatX, flatY).map { abs($0 - $1) / range }
        let worst = errors.max() ?? 0, mean = errors.reduce(0, +) / Double(max(errors.count, 1))
        XCTAssertLessThan(worst, worstTolerance, "\(name): worst relative error \(worst) (range \(range))", file: file, line: line)
        XCTAssertLessThan(mean, meanTolerance, "\(name): mean relative error \(mean) (range \(range))", file: file, line: line)
    }
}
