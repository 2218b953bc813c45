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
        XCTAssertEqual(referenced[2, 0], 0, accuracy: 1e-5)   // ref power -> 0 dB
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
