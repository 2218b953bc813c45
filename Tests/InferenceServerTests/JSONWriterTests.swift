import Foundation
import TensorKit
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// The hand-written JSON is standard JSON (Foundation's parser reads it) and its numbers keep
/// 6 significant digits.
final class JSONWriterTests: XCTestCase {
    func testCompactNumbersReadBackWithinSixDigits() throws {
        var g = RandomGenerator(seed: 5)
        var values: [Float] = [0, -0, 1, -1, 0.5, 1e-4, 9.999995, 99999.95, 123456.7, 1e-6, -3.25e-5, 6.02e23, 1e15, 0.1, 100, -100.25]
        for _ in 0..<20_000 {
            let magnitude = Float(pow(10, Double(g.nextUnitFloat()) * 16 - 8))
            values.append(g.nextNormal() * magnitude)
        }
        var w = JSONWriter()
        w.byte(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.compact(v)
        }
        w.byte(UInt8(ascii: "]"))
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [NSNumber])
        XCTAssertEqual(parsed.count, values.count)
        for (p, v) in zip(parsed, values) {
            let error = abs(p.doubleValue - Double(v)) / max(abs(Double(v)), 1e-30)
            XCTAssertLessThanOrEqual(error, 5.01e-6, "\(v) written as \(p)")
        }
    }

    func testNonFiniteAreZeroAndStringsAreEscaped() throws {
        var w = JSONWriter()
        w.raw("{\"a\":[")
        w.compact(.nan); w.byte(44); w.compact(.infinity); w.byte(44); w.compact(-.infinity); w.byte(44); w.exact(Float.nan)
        w.raw("],\"s\":")
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} é 🐕"
        w.string(text)
        w.byte(UInt8(ascii: "}"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        XCTAssertEqual(json["a"] as? [Double], [0, 0, 0, 0])
        XCTAssertEqual(json["s"] as? String, text)
    }
}
