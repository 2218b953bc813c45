import XCTest
import AudioDSP
import _TestSupport

/// Filterbank matrices against torchaudio's `melscale_fbanks` formula (reimplemented in float32
/// torch ops in the fixture script, and cross-checked there against librosa.filters.mel).
final class MelFilterbankTests: XCTestCase {
    private func check(
        _ name: String, bins: Int, sampleRate: Int, mels: Int, fMin: Double, fMax: Double,
        scale: MelScale, norm: MelNorm
    ) throws {
        let expected = try fixture("\(name).npy")
        XCTAssertEqual(expected.shape, [bins, mels])
        let fb = try MelFilterbank(
            binCount: bins, sampleRate: sampleRate, melCount: mels,
            fMin: fMin, fMax: fMax, scale: scale, norm: norm)
        XCTAssertEqual(fb.matrix.count, expected.values.count)
        let peak = expected.values.max()!
        var worst: Float = 0
        for i in expected.values.indices { worst = max(worst, abs(fb.matrix[i] - expected.values[i])) }
        XCTAssertLessThanOrEqual(worst / peak, 1e-5, "\(name): max relative difference")
        let emptyInReference = (0..<mels).filter { m in (0..<bins).allSatisfy { expected.values[$0 * mels + m] == 0 } }
        XCTAssertEqual(fb.emptyBands, emptyInReference, name)
    }

    func testHTKNoNorm() throws {
        try check("fb_htk_none", bins: 257, sampleRate: 44_100, mels: 64, fMin: 0, fMax: 22_050, scale: .htk, norm: .none)
    }

    func testHTKSlaneyNorm() throws {
        try check("fb_htk_slaney", bins: 257, sampleRate: 44_100, mels: 64, fMin: 0, fMax: 22_050, scale: .htk, norm: .slaney)
    }

    func testSlaneyScaleNoNorm() throws {
        try check("fb_slaney_none", bins: 257, sampleRate: 44_100, mels: 64, fMin: 0, fMax: 22_050, scale: .slaney, norm: .none)
    }

    func testSlaneyScaleSlaneyNorm() throws {
        try check("fb_slaney_slaney", bins: 257, sampleRate: 44_100, mels: 64, fMin: 0, fMax: 22_050, scale: .slaney, norm: .slaney)
    }

    func testFMinFMaxAtAnotherRate() throws {
        try check(
            "fb_htk_slaney_22050_fmin50_fmax8000", bins: 201, sampleRate: 22_050, mels: 40,
            fMin: 50, fMax: 8_000, scale: .htk, norm: .slaney)
    }

    func testMelScalesAgainstPublishedValues() {
        // HTK: 1000 Hz = 2595 log10(1 + 1000/700) = 999.9855 Mel. Slaney: 1000 Hz = 15 Mel
        // (linear part, 200/3 Hz per Mel), 6400 Hz = 15 + 27 = 42 Mel (log step ln(6.4)/27).
        XCTAssertEqual(MelScale.htk.mel(fromHertz: 1000), 999.98554, accuracy: 1e-4)
        XCTAssertEqual(MelScale.slaney.mel(fromHertz: 1000), 15, accuracy: 1e-12)
        XCTAssertEqual(MelScale.slaney.mel(fromHertz: 6400), 42, accuracy: 1e-12)
        XCTAssertEqual(MelScale.slaney.mel(fromHertz: 500), 7.5, accuracy: 1e-12)
        for scale in MelScale.allCases {
            for hz in [0.0, 20, 440, 999.9, 1000, 4000, 22_050] {
                XCTAssertEqual(scale.hertz(fromMel: scale.mel(fromHertz: hz)), hz, accuracy: 1e-9 * max(hz, 1))
            }
        }
    }

    func testTooManyMelsLeaveEmptyBandsAsTorchaudioWarns() throws {
        let fb = try MelFilterbank(binCount: 33, sampleRate: 16_000, melCount: 64, fMin: 0, fMax: 8_000)
        XCTAssertFalse(fb.emptyBands.isEmpty)
    }

    func testInvalidArgumentsThrow() {
        func name(_ body: () throws -> Void) -> String? {
            do { try body() } catch let error as DSPError {
                if case .invalidParameter(let name, _, _) = error { return name }
            } catch {}
            return nil
        }
        XCTAssertEqual(name { _ = try MelFilterbank(binCount: 1, sampleRate: 44_100, melCount: 8, fMin: 0, fMax: 100) }, "binCount")
        XCTAssertEqual(name { _ = try MelFilterbank(binCount: 9, sampleRate: 0, melCount: 8, fMin: 0, fMax: 100) }, "sampleRate")
        XCTAssertEqual(name { _ = try MelFilterbank(binCount: 9, sampleRate: 44_100, melCount: 0, fMin: 0, fMax: 100) }, "melCount")
        XCTAssertEqual(name { _ = try MelFilterbank(binCount: 9, sampleRate: 44_100, melCount: 8, fMin: 0, fMax: 30_000) }, "fMax")
        XCTAssertEqual(name { _ = try MelFilterbank(binCount: 9, sampleRate: 44_100, melCount: 8, fMin: 200, fMax: 100) }, "fMin")
    }
}
