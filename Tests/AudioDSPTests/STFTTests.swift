import Foundation
import XCTest
import AudioDSP
import _TestSupport

/// The power STFT against float32 `torch.stft(center=True, pad_mode="reflect")`.
final class STFTTests: XCTestCase {
    func testPowerMatchesTorchSTFT() throws {
        let expected = try fixture("stft_power_chirp_256_64.npy")
        let stft = try STFT(nFFT: 256, hopLength: 64)
        let got = try stft.powerSpectrogram(Array(SyntheticSignals.chirp.prefix(4096)))
        XCTAssertEqual(got.shape, expected.shape)
        let peak = expected.values.max()!
        var worst: Float = 0
        for i in expected.values.indices { worst = max(worst, abs(got.values[i] - expected.values[i])) }
        XCTAssertLessThanOrEqual(worst / peak, 1e-5, "max |Δ| relative to the peak power")
    }

    func testOddAndNonPowerOfTwoSizesAgainstADirectDFT() throws {
        // A naive double-precision DFT of each windowed frame (reflect padding done by hand):
        // covers paired and single transforms for sizes FFTW factors differently.
        let signal = Array(SyntheticSignals.noise.prefix(3_000))
        for (n, hop) in [(255, 100), (400, 160), (64, 17)] {
            let stft = try STFT(nFFT: n, hopLength: hop)
            let got = try stft.powerSpectrogram(signal)
            let window = STFT.periodicHann(n)
            var worst = 0.0, peak = 0.0
            for t in 0..<got.frameCount {
                let frame: [Double] = (0..<n).map { i in
                    var j = t * hop - n / 2 + i
                    if j < 0 { j = -j }
                    if j >= signal.count { j = 2 * (signal.count - 1) - j }
                    return Double(signal[j]) * Double(window[i])
                }
                for k in 0..<stft.binCount {
                    var re = 0.0, im = 0.0
                    for (i, v) in frame.enumerated() {
                        let phase = -2 * Double.pi * Double(k * i % n) / Double(n)
                        re += v * cos(phase)
                        im += v * sin(phase)
                    }
                    let p = re * re + im * im
                    peak = max(peak, p)
                    worst = max(worst, abs(Double(got[k, t]) - p))
                }
            }
            XCTAssertLessThan(worst / peak, 1e-5, "nFFT \(n): max |Δ| relative to the peak")
        }
    }

    func testPeriodicHannWindow() {
        // torch.hann_window(8, periodic=True) = [0, .1464, .5, .8536, 1, .8536, .5, .1464]
        let expected: [Float] = [0, 0.14644661, 0.5, 0.85355339, 1, 0.85355339, 0.5, 0.14644661]
        for (a, b) in zip(STFT.periodicHann(8), expected) { XCTAssertEqual(a, b, accuracy: 1e-7) }
    }

    func testParsevalOnAnInteriorFrame() throws {
        // Σ|X[k]|² over the full spectrum = N Σ x[n]² (Parseval); the one-sided spectrum counts
        // bins 1..<N/2 twice.
        let n = 512
        let stft = try STFT(nFFT: n, hopLength: 128)
        let signal = SyntheticSignals.noise
        let power = try stft.powerSpectrogram(signal)
        let frame = 10
        let window = STFT.periodicHann(n)
        var timeEnergy = 0.0
        for i in 0..<n {
            let x = Double(signal[frame * 128 - n / 2 + i] * window[i])
            timeEnergy += x * x
        }
        var freqEnergy = 0.0
        for k in 0..<stft.binCount {
            freqEnergy += Double(power[k, frame]) * ((k == 0 || k == n / 2) ? 1 : 2)
        }
        XCTAssertEqual(freqEnergy / Double(n), timeEnergy, accuracy: 1e-4 * timeEnergy)
    }

    func testSineLandsInItsBin() throws {
        // 32 cycles per 1024 samples: all energy in bin 32 (and its Hann neighbours 31, 33).
        let stft = try STFT(nFFT: 1024, hopLength: 512)
        let x = (0..<8192).map { Float(sin(2 * Double.pi * 32 * Double($0) / 1024)) }
        let p = try stft.powerSpectrogram(x)
        let column = (0..<stft.binCount).map { p[$0, 5] }
        XCTAssertEqual(column.firstIndex(of: column.max()!), 32)
        // Periodic Hann on a bin-centred sine: main bin (N/4)², neighbours (N/8)².
        XCTAssertEqual(column[32], 256 * 256, accuracy: 1)
        XCTAssertEqual(column[31], 128 * 128, accuracy: 1)
        XCTAssertEqual(column[40], 0, accuracy: 1e-3)
    }

    func testFrameCountsAndErrors() throws {
        let stft = try STFT(nFFT: 1024, hopLength: 512)
        XCTAssertEqual(stft.frameCount(forSampleCount: 220_500), 431)
        XCTAssertEqual(stft.frameCount(forSampleCount: 512), 0)
        XCTAssertThrowsError(try stft.powerSpectrogram([1, 2, 3])) { error in
            guard case .signalTooShort(3, 513, _)? = error as? DSPError else { return XCTFail("\(error)") }
        }
        let plain = try STFT(nFFT: 256, hopLength: 100, center: false)
        XCTAssertEqual(plain.frameCount(forSampleCount: 1000), 8)
        XCTAssertThrowsError(try plain.powerSpectrogram([Float](repeating: 0, count: 255)))
        XCTAssertThrowsError(try STFT(nFFT: 1, hopLength: 1)) { error in
            guard case .invalidParameter("nFFT", "1", _)? = error as? DSPError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try STFT(nFFT: 64, hopLength: 0)) { error in
            guard case .invalidParameter("hopLength", "0", _)? = error as? DSPError else { return XCTFail("\(error)") }
        }
    }

    func testConcurrentUseGivesIdenticalResults() throws {
        let mel = try MelSpectrogram()
        let reference = try mel.logMel(SyntheticSignals.noise)
        let mismatches = UnsafeMutableBufferPointer<Int>.allocate(capacity: 16)
        mismatches.initialize(repeating: 0)
        defer { mismatches.deallocate() }
        nonisolated(unsafe) let out = mismatches
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            let again = try? mel.logMel(SyntheticSignals.noise)
            out[i] = again == reference ? 0 : 1
        }
        XCTAssertEqual(mismatches.reduce(0, +), 0)
    }
}
