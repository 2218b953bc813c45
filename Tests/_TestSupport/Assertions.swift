import XCTest

/// Asserts equal counts and `max |a − e| <= rtol · max |e|`: the error relative to the reference's
/// scale, so entries that cancel to near zero do not demand impossible precision.
public func assertAllClose(
    _ actual: [Float], _ expected: [Float], rtol: Double = 1e-4, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(what): element count", file: file, line: line)
    guard actual.count == expected.count else { return }
    let scale = max(expected.map { Double(abs($0)) }.max() ?? 0, 1e-30)
    var worst = 0.0, at = 0
    for i in 0..<actual.count {
        let d = abs(Double(actual[i]) - Double(expected[i]))
        if !(d <= worst) { worst = d; at = i }
    }
    XCTAssertLessThanOrEqual(
        worst / scale, rtol,
        "\(what): worst error \(worst) at \(at) (got \(actual.isEmpty ? 0 : actual[at]), want \(expected.isEmpty ? 0 : expected[at])), scale \(scale)",
        file: file, line: line)
}
