import AudioDSP
import Dispatch
import Foundation
import TensorKit
import XCTest
import _Locking
import _TestSupport
@testable import AudioClassification

/// The in-process classifier against PyTorch on real ESC-50 clips (fixture:
/// Scripts/fixtures/make_classification_fixtures.py), its three input forms against each other,
/// and its errors for paths that are not audio files.
final class AudioClassifierTests: XCTestCase {
    private struct Reference: Decodable {
        struct Clip: Decodable {
            var file: String
            var logits: [Float]
            var probabilities: [Float]
            var top3: [String]
        }
        var checkpoint: String
        var classes: [String]
        var clips: [Clip]
    }

    private func reference() throws -> Reference {
        try JSONDecoder().decode(
            Reference.self,
            from: Data(contentsOf: Fixtures.url("AudioClassification", "esc50_probabilities.json")))
    }

    private func classifier(_ reference: Reference) throws -> AudioClassifier {
        try AudioClassifier(checkpoint: Fixtures.repositoryRoot.appendingPathComponent(reference.checkpoint))
    }

    private func esc50Audio() throws -> URL {
        guard let esc50 = Fixtures.esc50Directory else {
            throw XCTSkip("../shared/esc50 is absent: the real-clip checks need the shared ESC-50 clips")
        }
        return esc50.appendingPathComponent("audio")
    }

    /// Every class probability within 2e-3 of PyTorch's and the logits within 1e-3 of their
    /// scale (the random-weight model's probabilities are nearly one-hot, so the logits are the
    /// sensitive check); the same top 3.
    func testMatchesPyTorchOnRealClips() throws {
        let reference = try reference(), audio = try esc50Audio()
        let classifier = try classifier(reference)
        XCTAssertEqual(classifier.classes, reference.classes)
        for clip in reference.clips {
            let url = audio.appendingPathComponent(clip.file)
            let predictions = try classifier.predict(contentsOf: url, top: reference.classes.count)
            XCTAssertEqual(predictions.prefix(3).map(\.className), clip.top3, clip.file)
            for p in predictions {
                let expected = clip.probabilities[reference.classes.firstIndex(of: p.className)!]
                XCTAssertEqual(p.confidence, expected, accuracy: 2e-3, "\(clip.file) \(p.className)")
            }
            let prepared = try classifier.prepare(Data(contentsOf: url), name: clip.file)
            let logits = withNoGrad {
                classifier.model(
                    try! Tensor(
                        shape: [1, 1, prepared.spectrogram.rowCount, prepared.spectrogram.frameCount],
                        scalars: prepared.spectrogram.values))
            }
            assertAllClose(logits.scalars, clip.logits, rtol: 1e-3, "\(clip.file) logits")
        }
    }

    /// A file, its bytes and its decoded samples give the same answer; samples at another rate
    /// are resampled first.
    func testFileBytesAndSamplesAgree() throws {
        let reference = try reference(), audio = try esc50Audio()
        let classifier = try classifier(reference)
        let url = audio.appendingPathComponent(reference.clips[0].file)
        let fromFile = try classifier.predict(contentsOf: url, top: 5)
        XCTAssertEqual(try classifier.predict(Data(contentsOf: url), top: 5), fromFile)
        let clip = try AudioFile(contentsOf: url)
        XCTAssertEqual(try classifier.predict(samples: clip.samples, sampleRate: clip.sampleRate, top: 5), fromFile)
        let analysis = try classifier.analyze(samples: clip.samples, sampleRate: clip.sampleRate)
        XCTAssertEqual(analysis.predictions, Array(fromFile.prefix(3)))
        XCTAssertEqual(analysis.inputSpectrogram.height, 128)

        let half = try Resampler(from: clip.sampleRate, to: 22_050)(clip.samples)
        let resampled = try classifier.predict(samples: half, sampleRate: 22_050, top: 1)
        XCTAssertEqual(resampled.first?.className, fromFile.first?.className, "22.05 kHz input is resampled to 44.1 kHz")
    }

    /// One classifier called from several threads at once gives each the answer a lone call
    /// gives (the model is only read); ThreadSanitizer runs this in CI (Scripts/check-tsan.sh).
    func testConcurrentCallersGetTheSameAnswers() throws {
        let reference = try reference(), audio = try esc50Audio()
        let classifier = try classifier(reference)
        let urls = reference.clips.prefix(4).map { audio.appendingPathComponent($0.file) }
        let alone = try urls.map { try classifier.predict(contentsOf: $0, top: 3) }
        let results = Locked([[Prediction]?](repeating: nil, count: urls.count))
        DispatchQueue.concurrentPerform(iterations: urls.count) { i in
            let answer = try? classifier.predict(contentsOf: urls[i], top: 3)
            results.withLock { $0[i] = answer }
        }
        XCTAssertEqual(results.withLock { $0 }, alone)
    }

    /// A symbolic link to a clip classifies like the clip.
    func testSymbolicLinkIsFollowed() throws {
        let reference = try reference(), audio = try esc50Audio()
        let classifier = try classifier(reference)
        let clip = audio.appendingPathComponent(reference.clips[0].file)
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("link-\(UUID().uuidString).flac")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: clip)
        defer { try? FileManager.default.removeItem(at: link) }
        XCTAssertEqual(try classifier.predict(contentsOf: link), try classifier.predict(contentsOf: clip))
    }

    /// Paths and inputs that are not classifiable audio get errors that say why.
    func testErrorsNameTheProblem() throws {
        let classifier = try classifier(reference())
        let directory = FileManager.default.temporaryDirectory
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message { try classifier.predict(contentsOf: directory) }.contains("is a directory"))
        let missing = directory.appendingPathComponent("no-such-clip-\(UUID().uuidString).wav")
        XCTAssertTrue(message { try classifier.predict(contentsOf: missing) }.contains("no such file"))
        XCTAssertTrue(message { try classifier.predict(contentsOf: URL(fileURLWithPath: "/dev/null")) }.contains("special file"))
        let empty = directory.appendingPathComponent("empty-\(UUID().uuidString).wav")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try classifier.predict(contentsOf: empty)) {
            XCTAssertEqual(($0 as? InferenceError)?.code, "empty_audio", "\($0)")
        }
        XCTAssertThrowsError(try classifier.predict(samples: [], sampleRate: 44_100)) {
            XCTAssertEqual(($0 as? InferenceError)?.code, "empty_audio")
        }
        XCTAssertThrowsError(try classifier.predict(samples: [0.1, 0.2], sampleRate: 44_100)) {
            XCTAssertEqual(($0 as? InferenceError)?.code, "audio_too_short")
        }
        XCTAssertThrowsError(try classifier.predict(samples: [Float](repeating: .nan, count: 4096), sampleRate: 44_100)) {
            XCTAssertEqual(($0 as? InferenceError)?.code, "non_finite_audio")
        }
        XCTAssertThrowsError(try classifier.predict(samples: [Float](repeating: 0, count: 4096), sampleRate: 0))
        XCTAssertThrowsError(try classifier.predict(samples: [Float](repeating: 0, count: 4096), sampleRate: 44_100, top: 0)) {
            XCTAssertEqual(($0 as? InferenceError)?.code, "invalid_top")
        }
    }
}
