import Foundation
import XCTest
import AudioDSP
import _TestSupport

/// Real ESC-50 clips, decoded from FLAC by AudioFile, against torch.stft float32 log-Mel.
/// Fixtures hold a 96-frame window of each spectrogram (see esc50_clips.json).
final class ESC50ClipTests: XCTestCase {
    struct Entry: Decodable {
        var file: String
        var fixture: String
        var frameOffset: Int
        var frameCount: Int
        var totalFrames: Int
    }

    func testRealClipsMatchTorchaudio() throws {
        guard let esc50 = Fixtures.esc50Directory else {
            throw XCTSkip("ESC-50 not found at ../shared/esc50 (set ESC50_DIR): real-clip comparison skipped")
        }
        let entries = try JSONDecoder().decode(
            [Entry].self,
            from: Data(contentsOf: Fixtures.url("AudioDSP", "esc50_clips.json")))
        XCTAssertEqual(entries.count, 3)
        let mel = try MelSpectrogram()
        for entry in entries {
            let clip = try AudioFile(contentsOf: esc50.appendingPathComponent("audio/\(entry.file)"))
            XCTAssertEqual(clip.sampleRate, 44_100)
            let spec = try mel.logMel(clip.samples)
            XCTAssertEqual(spec.shape, [128, entry.totalFrames], entry.file)
            let expected = try fixture(entry.fixture)
            var window = [Float]()
            for m in 0..<128 {
                for t in entry.frameOffset..<(entry.frameOffset + entry.frameCount) { window.append(spec[m, t]) }
            }
            assertLogMelClose(window, expected.values, entry.file)
        }
    }

    /// Decode, resample 44.1 -> 22.05 kHz (libsoxr vs librosa's soxr_hq) and 64-band log-Mel:
    /// the `audiocnn spectrogram --sample-rate 22050 --mels 64` path.
    func testResampledClipMatchesLibrosaResampleAndTorchaudio() throws {
        guard let esc50 = Fixtures.esc50Directory else {
            throw XCTSkip("ESC-50 not found at ../shared/esc50 (set ESC50_DIR): real-clip comparison skipped")
        }
        let clip = try AudioFile(contentsOf: esc50.appendingPathComponent("audio/1-17367-A-10.flac"))
        let samples = try Resampler(from: clip.sampleRate, to: 22_050)(clip.samples)
        XCTAssertEqual(samples.count, 110_250)
        let spec = try MelSpectrogram(MelConfig(sampleRate: 22_050, melCount: 64)).logMel(samples)
        let expected = try fixture("logmel_esc50_1-17367-A-10_22050_64mels.npy")
        XCTAssertEqual(spec.shape, expected.shape)
        assertLogMelClose(spec.values, expected.values, "1-17367-A-10 at 22050 Hz")
    }
}
