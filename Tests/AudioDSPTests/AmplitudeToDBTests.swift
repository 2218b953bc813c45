import Foundation
import XCTest
import AudioDSP

/// Power -> dB against the definition torchaudio documents:
/// `10 log10(max(x, amin)) - 10 log10(max(amin, ref))`, then floored at `max - top_db`.
final class AmplitudeToDBTests: XCTestCase {
    func testDefinition() throws {
        let powers: [Float] = [0, 1e-12, 1e-10, 1e-5, 0.5, 1, 2, 1_000, 3.7e7]
        let spec = try Spectrogram(rowCount: 3, frameCount: 3, values: powers)
        let db = AmplitudeToDB()(spec)
        for (p, d) in zip(powers, db.values) {
            XCTAssertEqual(d, Float(10 * log10(max(Double(p), 1e-10))), accuracy: 1e-4, "power \(p)")
        }
        let referenced = AmplitudeToDB(reference: 2)(spec)
        XCTAssertEqual(referenced[2, 0], 0, accuracy: 1e-5)  // ref power -> 0 dB
    }

    func testDenseRangeAgainstLibm() throws {
        // Every power of ten from 1e-10 to 1e12 with varied mantissas, against Double log10.
        var powers = [Float]()
        var rng = SplitMix64(seed: 9)
        for _ in 0..<20_000 { powers.append(Float(pow(10, -10 + 22 * rng.nextUnitDouble()))) }
        powers += [Float.leastNormalMagnitude, 1, 2, 0.5, 0.70710677, 0.7071068, 1e-10, 1.0000001e-10]
        let spec = try Spectrogram(rowCount: 1, frameCount: powers.count, values: powers)
        let db = AmplitudeToDB()(spec)
        var worst = 0.0
        for (p, d) in zip(powers, db.values) {
            worst = max(worst, abs(Double(d) - 10 * log10(max(Double(p), Double(Float(1e-10))))))
        }
        XCTAssertLessThan(worst, 2e-5, "max |Δ| in dB")
    }

    func testNonFiniteValuesPropagateLikeTorch() throws {
        let spec = try Spectrogram(rowCount: 1, frameCount: 4, values: [.nan, .infinity, -.infinity, -1])
        let db = AmplitudeToDB()(spec)
        XCTAssertTrue(db.values[0].isNaN)
        XCTAssertEqual(Array(db.values[1...]), [.infinity, -100, -100])
    }

    func testTopDBFloorsRelativeToThePeak() throws {
        let spec = try Spectrogram(rowCount: 1, frameCount: 4, values: [100, 1, 1e-3, 0])
        let db = AmplitudeToDB(topDB: 30)(spec)
        XCTAssertEqual(db.values, [20, 0, -10, -10])
    }

    func testSpectrogramShapeIsChecked() {
        XCTAssertThrowsError(try Spectrogram(rowCount: 2, frameCount: 3, values: [1, 2])) { error in
            XCTAssertEqual(error as? DSPError, .shapeMismatch(expected: "2 x 3 = 6 values", got: "2 values"))
        }
    }
}
