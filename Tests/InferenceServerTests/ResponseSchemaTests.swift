import _TestSupport
import AudioDSP
import Foundation
import Hummingbird
import HummingbirdTesting
import ResNetAudio
import TensorKit
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// `POST /` returns the reference service's response, field for field, with values checked
/// against an independent computation: torch-compatible shapes from the layer arithmetic, the
/// channel means recomputed in float64 from the model's own activations, the log-Mel from
/// AudioDSP (itself tested against torchaudio), and the waveform from the PCM samples.
final class ResponseSchemaTests: XCTestCase {
    func testResponseHasEveryKeyAndShape() async throws {
        let model = TestModel.shared
        // 22,050 Hz in, so the server resamples to the checkpoint's 44,100 Hz.
        let clip = TestClip(seconds: 1.5, sampleRate: 22_050)
        let service = try model.service()
        let response = try await service.withTestClient { client in
            try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: clip.requestBody)
        }
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.headers[.contentType], "application/json")
        let raw = String(buffer: response.body)
        let json = try decodeJSON(response.body)
        XCTAssertEqual(Set(json.keys), ["predictions", "visualization", "input_spectrogram", "waveform"])

        // Independent front-end: resample and log-Mel directly.
        let resampled = try Resampler(from: 22_050, to: 44_100)(clip.samples)
        let spec = try MelSpectrogram(MelConfig()).logMel(resampled)
        let frames = 1 + resampled.count / 512
        XCTAssertEqual(spec.shape, [128, frames])

        // predictions
        let predictions = try XCTUnwrap(json["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.count, 3)
        for p in predictions {
            XCTAssertEqual(Set(p.keys), ["class", "confidence"])
            XCTAssertTrue(testClasses.contains(try XCTUnwrap(p["class"] as? String)))
        }
        let confidences = try predictions.map { try XCTUnwrap(($0["confidence"] as? NSNumber)?.doubleValue) }
        XCTAssertEqual(confidences, confidences.sorted(by: >))

        // Reference softmax from the model's logits, in float64.
        let x = try Tensor(shape: [1, 1, 128, frames], scalars: spec.values)
        let (logits, maps) = withNoGrad { model.net.forwardWithFeatureMaps(x) }
        let l = logits.scalars.map(Double.init)
        let denominator = l.map { exp($0 - l.max()!) }.reduce(0, +)
        let probabilities = l.map { exp($0 - l.max()!) / denominator }
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        XCTAssertEqual(predictions.map { $0["class"] as? String }, order.prefix(3).map { testClasses[$0] })
        for (c, i) in zip(confidences, order.prefix(3)) { XCTAssertEqual(c, probabilities[i], accuracy: 1e-5) }

        // visualization: every feature map, in forward order, with layer-arithmetic shapes.
        let visualization = try XCTUnwrap(json["visualization"] as? [String: Any])
        var expected: [(String, Int, Int)] = []
        func out(_ n: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (n + 2 * p - k) / s + 1 }
        var h = out(out(128, 7, 2, 3), 3, 2, 1), w = out(out(frames, 7, 2, 3), 3, 2, 1)
        expected.append(("conv1", h, w))
        for stage in 1...4 {
            if stage > 1 { h = out(h, 3, 2, 1); w = out(w, 3, 2, 1) }
            expected += [("layer\(stage).block0.conv", h, w), ("layer\(stage).block0.relu", h, w), ("layer\(stage)", h, w)]
        }
        XCTAssertEqual(Set(visualization.keys), Set(expected.map(\.0)))
        let positions = expected.map { raw.range(of: "\"\($0.0)\":{\"shape\"")?.lowerBound }
        XCTAssertFalse(positions.contains(nil))
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted(), "feature maps are not in forward order")
        for (name, eh, ew) in expected {
            let entry = try XCTUnwrap(visualization[name] as? [String: Any], name)
            let values = try XCTUnwrap(entry["values"] as? [[NSNumber]], name)
            XCTAssertEqual(entry["shape"] as? [Int], [eh, ew], name)
            XCTAssertEqual(values.count, eh, name)
            XCTAssertTrue(values.allSatisfy { $0.count == ew }, name)
            // Channel mean of item 0 in float64.
            let t = try XCTUnwrap(maps[name], name)
            let c = t.shape[1]
            let s = t.scalars
            var worst = 0.0
            for r in 0..<eh {
                for col in 0..<ew {
                    var sum = 0.0
                    for ch in 0..<c { sum += Double(s[(ch * eh + r) * ew + col]) }
                    let mean = sum / Double(c)
                    worst = max(worst, abs(values[r][col].doubleValue - mean) / max(1, abs(mean)))
                }
            }
            XCTAssertLessThan(worst, 2e-5, "\(name): channel means differ by \(worst)")
        }

        // input_spectrogram
        let input = try XCTUnwrap(json["input_spectrogram"] as? [String: Any])
        XCTAssertEqual(input["shape"] as? [Int], [128, frames])
        let rows = try XCTUnwrap(input["values"] as? [[NSNumber]])
        XCTAssertEqual(rows.count, 128)
        var worst = 0.0
        for r in 0..<128 {
            XCTAssertEqual(rows[r].count, frames)
            for f in 0..<frames { worst = max(worst, abs(rows[r][f].doubleValue - Double(spec[r, f])) / max(1, abs(Double(spec[r, f])))) }
        }
        XCTAssertLessThan(worst, 1e-5)

        // waveform: the resampled signal taken every len / 8000-th sample.
        let waveform = try XCTUnwrap(json["waveform"] as? [String: Any])
        XCTAssertEqual(Set(waveform.keys), ["values", "sample_rate", "duration"])
        XCTAssertEqual(waveform["sample_rate"] as? Int, 44_100)
        XCTAssertEqual(try XCTUnwrap((waveform["duration"] as? NSNumber)?.doubleValue), Double(resampled.count) / 44_100, accuracy: 1e-12)
        let step = resampled.count / 8_000
        XCTAssertEqual(step, 8)
        let expectedWave = stride(from: 0, to: resampled.count, by: step).map { resampled[$0] }
        let wave = try XCTUnwrap(waveform["values"] as? [NSNumber])
        XCTAssertEqual(wave.count, expectedWave.count)
        for (a, b) in zip(wave, expectedWave) { XCTAssertEqual(a.doubleValue, Double(b), accuracy: 1e-5) }
    }

    func testShortClipWaveformIsNotThinned() async throws {
        let clip = TestClip(seconds: 0.1, sampleRate: 44_100)
        let service = try TestModel.shared.service()
        let response = try await service.withTestClient { client in
            try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: clip.requestBody)
        }
        XCTAssertEqual(response.status, .ok)
        let json = try decodeJSON(response.body)
        let waveform = try XCTUnwrap(json["waveform"] as? [String: Any])
        let values = try XCTUnwrap(waveform["values"] as? [NSNumber])
        XCTAssertEqual(values.count, 4_410)
        for (a, b) in zip(values, clip.samples) { XCTAssertEqual(a.doubleValue, Double(b), accuracy: 1e-5 * max(1, abs(Double(b)))) }
    }

    /// `audiocnn predict` and `POST /` run the same code: the same classes and the same
    /// confidences, bit for bit.
    func testPredictionsEqualPredict() async throws {
        let model = TestModel.shared
        let service = try model.service()
        for (seconds, rate, seed) in [(1.0, 44_100, UInt64(1)), (2.0, 16_000, 2), (0.7, 48_000, 3)] {
            let clip = TestClip(seconds: seconds, sampleRate: rate, seed: seed)
            let direct = try model.classifier.predict(clip.wav, top: 3)
            let response = try await service.withTestClient { client in
                try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: clip.requestBody)
            }
            let json = try decodeJSON(response.body)
            let served = try XCTUnwrap(json["predictions"] as? [[String: Any]])
            XCTAssertEqual(served.map { $0["class"] as? String }, direct.map(\.className))
            // Confidences are written as the shortest decimal of the Float, so they read back exactly.
            XCTAssertEqual(served.map { ($0["confidence"] as? NSNumber).map { Float($0.doubleValue) } }, direct.map(\.confidence))
            let jsonLine = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(predictionJSONLine(file: "a.wav", predictions: direct).utf8)) as? [String: Any])
            XCTAssertEqual(jsonLine["file"] as? String, "a.wav")
            XCTAssertEqual((jsonLine["predictions"] as? [[String: Any]])?.map { $0["class"] as? String }, direct.map(\.className))
        }
    }

    func testMultichannelIsDownmixed() async throws {
        // Stereo with the same signal in both channels must classify as the mono clip.
        let clip = TestClip(seconds: 1.0, sampleRate: 44_100)
        let stereo = WAV.pcm16([clip.pcm, clip.pcm], sampleRate: 44_100)
        let mono = try TestModel.shared.classifier.predict(clip.wav, top: 5)
        let both = try TestModel.shared.classifier.predict(stereo, top: 5)
        XCTAssertEqual(both.map(\.className), mono.map(\.className))
        for (a, b) in zip(both, mono) { XCTAssertEqual(a.confidence, b.confidence, accuracy: 1e-6) }
    }
}
