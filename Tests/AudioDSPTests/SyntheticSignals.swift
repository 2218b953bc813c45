import Foundation
import XCTest
import AudioDSP
import _TestSupport

/// The deterministic test signals of Scripts/fixtures/make_audiodsp_fixtures.py, regenerated
/// with the same formulas (and the same SplitMix64) so only their spectrograms are stored.
enum SyntheticSignals {
    static let sampleRate = 44_100
    static let count = 22_050

    static var chirp: [Float] {
        let f0 = 100.0, f1 = 16_000.0, duration = Double(count) / Double(sampleRate)
        return (0..<count).map { i in
            let t = Double(i) / Double(sampleRate)
            return Float(0.5 * sin(2 * Double.pi * (f0 * t + (f1 - f0) / (2 * duration) * t * t)))
        }
    }

    static var noise: [Float] {
        var rng = SplitMix64(seed: 42)
        return (0..<count).map { _ in Float(0.3 * (2 * rng.nextUnitDouble() - 1)) }
    }

    static var impulse: [Float] {
        var x = [Float](repeating: 0, count: count)
        x[count / 2] = 1
        return x
    }

    static var silence: [Float] { [Float](repeating: 0, count: count) }

    static func named(_ name: String) -> [Float] {
        switch name {
        case "chirp": return chirp
        case "noise": return noise
        case "impulse": return impulse
        default: return silence
        }
    }
}

/// Loads `Tests/Fixtures/AudioDSP/<name>`.
func fixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> NPYArray {
    try NPYArray(contentsOf: Fixtures.url("AudioDSP", name))
}

/// The acceptance rule for log-Mel values: within 0.01 dB on every bin no more than
/// 80 dB below the reference's loudest bin, and within 0.5 dB everywhere.
///
/// `roundOffFloor`: for a synthetic signal with more than 140 dB of dynamic range (the chirp),
/// bins further than this below the peak hold float32 FFT round-off in any implementation
/// (torch float32 itself is 1.5 dB off its float64 result there), so the 0.5 dB rule is applied
/// only above it. Real clips use no such floor.
func assertLogMelClose(
    _ actual: [Float], _ expected: [Float], _ label: String,
    roundOffFloor: Float = .infinity,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(label): size", file: file, line: line)
    guard actual.count == expected.count, let peak = expected.max() else { return }
    var worstNear: Float = 0, worstAll: Float = 0
    for i in expected.indices {
        let d = abs(actual[i] - expected[i])
        if expected[i] >= peak - roundOffFloor, !(d <= worstAll) { worstAll = d.isNaN ? .infinity : d }
        if expected[i] >= peak - 80, !(d <= worstNear) { worstNear = d.isNaN ? .infinity : d }
    }
    XCTAssertLessThanOrEqual(worstNear, 0.01, "\(label): max |Δ| within 80 dB of the peak", file: file, line: line)
    XCTAssertLessThanOrEqual(worstAll, 0.5, "\(label): max |Δ| anywhere", file: file, line: line)
}
