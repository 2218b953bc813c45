import AudioDSP
import Foundation
import ResNetAudio
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// The classifier runs the front-end the checkpoint records, whichever writer produced it.
final class CheckpointMelConfigTests: XCTestCase {
    private func checkpoint(melConfigJSON: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mel-config-\(UUID().uuidString).safetensors")
        let model = try ResNetAudio.AudioCNN(config: .small(classes: 2), seed: 1)
        try Checkpoint.save(
            model,
            metadata: CheckpointMetadata(
                classes: ["a", "b"], modelConfig: model.config,
                melConfigJSON: melConfigJSON), to: url)
        return url
    }

    func testPyTorchExportMelConfigIsHonoured() throws {
        // As Scripts/reference/checkpoint_format.py writes it.
        let url = try checkpoint(
            melConfigJSON:
                #"{"fMax": 11025.0, "fMin": 0.0, "hopLength": 256, "melScale": "htk", "nFFT": 512, "melCount": 64, "norm": "none", "sampleRate": 22050, "topDB": null}"#
        )
        defer { try? FileManager.default.removeItem(at: url) }
        let classifier = try AudioClassifier(checkpoint: url)
        XCTAssertEqual(classifier.melConfig, MelConfig(sampleRate: 22_050, nFFT: 512, hopLength: 256, melCount: 64, fMax: 11_025))
        // And the analysis uses it: 64 bands, hop 256 at 22,050 Hz.
        let analysis = try classifier.analyze(TestClip(seconds: 1, sampleRate: 44_100).wav)
        XCTAssertEqual(analysis.inputSpectrogram.height, 64)
        XCTAssertEqual(analysis.inputSpectrogram.width, 1 + 22_050 / 256)
        XCTAssertEqual(analysis.waveform.sampleRate, 22_050)
    }

    func testInvalidMelConfigIsACheckpointError() throws {
        let url = try checkpoint(melConfigJSON: #"{"sampleRate": "fast"}"#)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try AudioClassifier(checkpoint: url)) { error in
            guard case InferenceError.checkpoint(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("mel_config"), why)
        }
    }
}
