import Foundation
import XCTest
import AudioDSP
import _TestSupport

/// libsoxr resampling against python-soxr / `librosa.resample(res_type="soxr_hq")`, and the
/// 22,050 -> 44,100 -> 22,050 round trip.
final class ResamplerTests: XCTestCase {
    /// The fixture script's test tone: 440 Hz and 3 kHz at 22,050 Hz, 5,513 samples.
    private var tone: [Float] {
        (0..<5_513).map { i in
            Float(
                0.4 * sin(2 * Double.pi * 440 * Double(i) / 22_050)
                    + 0.2 * sin(2 * Double.pi * 3_000 * Double(i) / 22_050 + 0.3))
        }
    }

    func testMatchesLibrosaSoxrHQ() throws {
        for (rate, name) in [(44_100, "resample_tone_22050_to_44100.npy"), (16_000, "resample_tone_22050_to_16000.npy")] {
            let expected = try fixture(name)
            let got = try Resampler(from: 22_050, to: rate)(tone)
            XCTAssertEqual(got.count, expected.values.count, "ceil(n * ratio) samples, as librosa")
            var worst: Float = 0
            for (a, b) in zip(got, expected.values) { worst = max(worst, abs(a - b)) }
            XCTAssertLessThanOrEqual(worst, 1e-5, "max |Δ| vs python-soxr at \(rate) Hz")
        }
    }

    func testRoundTripOfABandLimitedSignalWithin1e3RMS() throws {
        // 2 s of tones below 8 kHz with 50 ms raised-cosine fades (so the edges are band-limited too).
        let n = 44_100, fade = 1_102
        let x: [Float] = (0..<n).map { i in
            let t = Double(i) / 22_050
            var v = 0.3 * sin(2 * .pi * 220 * t) + 0.2 * sin(2 * .pi * 1_234.5 * t + 1) + 0.1 * sin(2 * .pi * 7_000 * t)
            let edge = min(i, n - 1 - i)
            if edge < fade { v *= 0.5 - 0.5 * cos(Double.pi * Double(edge) / Double(fade)) }
            return Float(v)
        }
        let up = try Resampler(from: 22_050, to: 44_100)(x)
        XCTAssertEqual(up.count, 2 * n)
        let back = try Resampler(from: 44_100, to: 22_050)(up)
        XCTAssertEqual(back.count, n)
        let rms = (zip(back, x).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(n)).squareRoot()
        XCTAssertLessThan(rms, 1e-3, "round-trip RMS error")
    }

    func testLogMelOfAClipResamplesToTheConfiguredRate() throws {
        let clip = AudioFile(samples: tone, sampleRate: 22_050)
        let mel = try MelSpectrogram()
        let expected = try mel.logMel(Resampler(from: 22_050, to: 44_100)(tone))
        XCTAssertEqual(try mel.logMel(clip), expected)
        XCTAssertEqual(expected.frameCount, 1 + 11_026 / 512)
        let native = AudioFile(samples: SyntheticSignals.noise, sampleRate: 44_100)
        XCTAssertEqual(try mel.logMel(native), try mel.logMel(SyntheticSignals.noise))
    }

    func testSameRateIsIdentityAndEmptyStaysEmpty() throws {
        XCTAssertEqual(try Resampler(from: 8_000, to: 8_000)(tone), tone)
        XCTAssertEqual(try Resampler(from: 8_000, to: 16_000)([]), [])
        XCTAssertEqual(try Resampler(from: 44_100, to: 22_050).outputCount(forInputCount: 5), 3)
    }

    func testInvalidRatesThrow() {
        XCTAssertThrowsError(try Resampler(from: 0, to: 44_100)) { error in
            XCTAssertEqual(error as? DSPError, .invalidParameter(name: "inputRate", value: "0", expected: "> 0 Hz"))
        }
        XCTAssertThrowsError(try Resampler(from: 44_100, to: -1)) { error in
            XCTAssertEqual(error as? DSPError, .invalidParameter(name: "outputRate", value: "-1", expected: "> 0 Hz"))
        }
        XCTAssertThrowsError(try Resampler(from: 44, to: 44_100)) { error in
            guard case .invalidParameter("outputRate", "44100", let expected)? = error as? DSPError else { return XCTFail("\(error)") }
            XCTAssertTrue(expected.contains("256"), expected)
        }
        XCTAssertThrowsError(try Resampler(from: 44_100, to: 44))
        XCTAssertNoThrow(try Resampler(from: 8_000, to: 768_000))
    }
}
