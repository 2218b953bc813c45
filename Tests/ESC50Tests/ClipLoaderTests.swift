import AudioDSP
import ESC50
import _TestSupport
import XCTest

/// Clip loading against librosa (`librosa.load(sr=..., mono=True, res_type="soxr_hq")` then
/// `librosa.util.fix_length`), from Scripts/fixtures/make_esc50_fixtures.py.
final class ClipLoaderTests: XCTestCase {
    private struct Case: Decodable { var sampleRate: Int; var seconds: Double; var count: Int }

    /// The same integer stereo signal as `stereo_test_signal` in the fixture script.
    static func stereoSignal(frames: Int) -> [[Int16]] {
        let left = (0..<frames).map { n in Int16(((n * 7919) % 2001 - 1000) * 16) }
        let right = (0..<frames).map { n -> Int16 in
            let t = n % 200
            return Int16(((t < 100 ? t : 200 - t) - 50) * 300)
        }
        return [left, right]
    }

    func testMatchesLibrosaForResamplingDownmixPaddingAndCropping() throws {
        let folder = try temporaryFolder(self)
        let wav = folder.appendingPathComponent("stereo.wav")
        try TestWAV.write(wav, channels: Self.stereoSignal(frames: 17_640), sampleRate: 22_050)
        let cases = try JSONDecoder().decode(
            [String: Case].self,
            from: Data(contentsOf: Fixtures.url("ESC50", "clip_loading.json")))
        XCTAssertEqual(cases.count, 4)
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let expected = try NPYArray(contentsOf: Fixtures.url("ESC50", name + ".npy")).values
            let loader = try ClipLoader(sampleRate: c.sampleRate, duration: c.seconds)
            XCTAssertEqual(loader.sampleCount, c.count, name)
            let got = try loader.load(wav)
            XCTAssertEqual(got.count, expected.count, name)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
            // Resampled samples: libsoxr float32 on both sides; identical-rate cases are exact.
            XCTAssertLessThan(worst, c.sampleRate == 22_050 ? 1e-7 : 1e-4, name)
        }
    }

    func testUndecodableFileNamesTheFile() throws {
        let folder = try temporaryFolder(self)
        let bad = folder.appendingPathComponent("noise.wav")
        try Data("this is not audio".utf8).write(to: bad)
        let loader = try ClipLoader(sampleRate: 16_000, duration: 1)
        XCTAssertThrowsError(try loader.load(bad)) { error in
            guard case .undecodable(let url, _) = error as? ClipLoaderError else { return XCTFail("\(error)") }
            XCTAssertEqual(url, bad)
            XCTAssertTrue("\(error)".contains("noise.wav"))
        }
        XCTAssertThrowsError(try loader.load(folder.appendingPathComponent("absent.wav")))
        XCTAssertThrowsError(try ClipLoader(sampleRate: 0))
        XCTAssertThrowsError(try ClipLoader(sampleRate: 16_000, duration: -1))
    }

    func testLogMelFeaturesShapeAndIdentity() throws {
        let folder = try temporaryFolder(self)
        let wav = folder.appendingPathComponent("stereo.wav")
        try TestWAV.write(wav, channels: Self.stereoSignal(frames: 17_640), sampleRate: 22_050)
        var config = MelConfig()
        config.sampleRate = 22_050
        config.melCount = 64
        let features = try LogMelFeatures(config: config, duration: 1)
        // torchaudio, center=True: 1 + floor(samples / hop) frames.
        XCTAssertEqual(features.shape, FeatureShape(mels: 64, frames: 1 + 22_050 / 512))
        let values = try features.features(of: LoaderItem(url: wav, label: 0))
        XCTAssertEqual(values.count, features.shape.count)
        XCTAssertTrue(values.allSatisfy(\.isFinite))
        var other = config
        other.hopLength = 256
        XCTAssertNotEqual(try LogMelFeatures(config: other, duration: 1).cacheIdentity, features.cacheIdentity)
        XCTAssertNotEqual(try LogMelFeatures(config: config, duration: 2).cacheIdentity, features.cacheIdentity)
        XCTAssertEqual(try LogMelFeatures(config: config, duration: 1).cacheIdentity, features.cacheIdentity)
    }

    /// The reference project's front-end: filters laid out for 22,050 Hz on 44.1 kHz audio.
    func testAnalysisRateCanDifferFromTheClipRate() throws {
        let reference = try LogMelFeatures(config: MelConfig(sampleRate: 22_050, fMax: 11_025), clipSampleRate: 44_100)
        XCTAssertEqual(reference.clips.sampleRate, 44_100)
        XCTAssertEqual(reference.clips.sampleCount, 220_500)
        XCTAssertEqual(reference.shape, FeatureShape(mels: 128, frames: 431))
        let resampled = try LogMelFeatures(config: MelConfig(sampleRate: 22_050, fMax: 11_025))
        XCTAssertEqual(resampled.shape, FeatureShape(mels: 128, frames: 216))
        XCTAssertNotEqual(reference.cacheIdentity, resampled.cacheIdentity)
    }
}
