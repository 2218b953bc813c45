import Foundation
import XCTest
import AudioDSP
import _TestSupport

/// Log-Mel spectrograms against torch.stft (float32) + torchaudio's filterbank and dB formulas.
final class MelSpectrogramTests: XCTestCase {
    func testSyntheticSignalsMatchTorchaudio() throws {
        let mel = try MelSpectrogram()
        for name in ["chirp", "noise", "impulse", "silence"] {
            let expected = try fixture("logmel_\(name).npy")
            let got = try mel.logMel(SyntheticSignals.named(name))
            XCTAssertEqual(got.shape, expected.shape, name)
            // The chirp spans 142 dB (peak +42.9 dB, floor -100 dB); see `roundOffFloor`.
            assertLogMelClose(got.values, expected.values, name, roundOffFloor: name == "chirp" ? 120 : .infinity)
        }
    }

    func testSilenceIsTheAminFloor() throws {
        let got = try MelSpectrogram().logMel(SyntheticSignals.silence)
        XCTAssertTrue(got.values.allSatisfy { $0 == -100 }, "10 log10(1e-10) = -100 dB everywhere")
    }

    func testSlaneyScaleNormFminFmaxAndTopDBMatchTorchaudio() throws {
        let config = MelConfig(
            sampleRate: 44_100, nFFT: 512, hopLength: 256, melCount: 64, fMin: 50,
            fMax: 14_000, melScale: .slaney, norm: .slaney, topDB: 80)
        let mel = try MelSpectrogram(config)
        for name in ["noise", "chirp"] {
            let expected = try fixture("logmel_\(name)_slaney_512_256_64_fmin50_fmax14000_top80.npy")
            let got = try mel.logMel(SyntheticSignals.named(name))
            XCTAssertEqual(got.shape, expected.shape, name)
            assertLogMelClose(got.values, expected.values, name)
        }
    }

    func testFiveSecondClipGives128By431() throws {
        let mel = try MelSpectrogram()
        let spec = try mel.logMel([Float](repeating: 0.1, count: 5 * 44_100))
        XCTAssertEqual(spec.shape, [128, 431])
        XCTAssertEqual(MelConfig().frameCount(forSampleCount: 220_500), 431)
    }

    func testBatchEqualsOneByOne() throws {
        let mel = try MelSpectrogram()
        let clips =
            ["chirp", "noise", "impulse", "silence", "chirp"].map(SyntheticSignals.named)
            + [Array(SyntheticSignals.noise.prefix(7_000))]
        let batch = try mel.logMel(batch: clips)
        XCTAssertEqual(batch.count, clips.count)
        for (i, clip) in clips.enumerated() {
            XCTAssertEqual(batch[i], try mel.logMel(clip), "clip \(i)")
        }
        XCTAssertEqual(try mel.logMel(batch: []), [])
    }

    func testContiguousBatchEqualsOneByOne() throws {
        let mel = try MelSpectrogram()
        let clips = ["chirp", "noise", "impulse"].map(SyntheticSignals.named)
        var out = [Float](repeating: .nan, count: 3 * 128 * 44)
        try out.withUnsafeMutableBufferPointer { try mel.logMel(batch: clips, into: $0) }
        for (i, clip) in clips.enumerated() {
            XCTAssertEqual(Array(out[(i * 128 * 44)..<((i + 1) * 128 * 44)]), try mel.logMel(clip).values, "clip \(i)")
        }
        var small = [Float](repeating: 0, count: 10)
        XCTAssertThrowsError(try small.withUnsafeMutableBufferPointer { try mel.logMel(batch: clips, into: $0) }) { error in
            XCTAssertEqual(error as? DSPError, .shapeMismatch(expected: "3 x 128 x 44 = 16896 floats", got: "10 floats"))
        }
        XCTAssertThrowsError(
            try out.withUnsafeMutableBufferPointer {
                try mel.logMel(batch: [clips[0], Array(clips[1].prefix(100))], into: $0)
            }
        ) { error in
            XCTAssertEqual(error as? DSPError, .shapeMismatch(expected: "clips of 22050 samples (as clip 0)", got: "100 samples in clip 1"))
        }
    }

    func testTooShortSignalsThrow() throws {
        let mel = try MelSpectrogram()
        XCTAssertThrowsError(try mel.logMel([Float](repeating: 0, count: 512))) { error in
            XCTAssertEqual(
                error as? DSPError,
                .signalTooShort(
                    samples: 512, minimum: 513,
                    reason: "reflect padding by nFFT/2 = 512 needs more samples than that"))
        }
        XCTAssertNoThrow(try mel.logMel([Float](repeating: 0, count: 513)))
        XCTAssertThrowsError(try mel.logMel(batch: [SyntheticSignals.noise, []])) { error in
            guard case .signalTooShort(0, 513, let reason)? = error as? DSPError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(reason.contains("clip 1"), reason)
        }
    }

    func testInvalidConfigurationsThrowNamingTheField() {
        let cases: [(MelConfig, String)] = [
            (MelConfig(sampleRate: 0), "sampleRate"),
            (MelConfig(nFFT: 8), "nFFT"),
            (MelConfig(hopLength: 0), "hopLength"),
            (MelConfig(hopLength: 2048), "hopLength"),
            (MelConfig(melCount: 0), "melCount"),
            (MelConfig(melCount: 600), "melCount"),
            (MelConfig(fMin: -1), "fMin"),
            (MelConfig(fMin: 30_000, fMax: 20_000), "fMin"),
            (MelConfig(fMax: 30_000), "fMax"),
            (MelConfig(fMax: .nan), "fMax"),
            (MelConfig(topDB: -3), "topDB"),
        ]
        for (config, field) in cases {
            XCTAssertThrowsError(try MelSpectrogram(config), field) { error in
                guard case .invalidParameter(let name, _, _)? = error as? DSPError else {
                    return XCTFail("\(field): \(error)")
                }
                XCTAssertEqual(name, field)
                XCTAssertTrue("\(error)".contains(field))
            }
        }
    }

    func testConfigRoundTripsThroughJSONAndFillsDefaults() throws {
        let config = MelConfig(
            sampleRate: 22_050, nFFT: 2048, hopLength: 256, melCount: 64, fMin: 20,
            fMax: 8_000, melScale: .slaney, norm: .slaney, topDB: 80)
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(MelConfig.self, from: data), config)
        let partial = try JSONDecoder().decode(MelConfig.self, from: Data(#"{"melCount": 64}"#.utf8))
        var expected = MelConfig()
        expected.melCount = 64
        XCTAssertEqual(partial, expected)
        XCTAssertEqual(MelConfig().resolvedFMax, 22_050)
    }
}
