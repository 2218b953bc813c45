import Training
import XCTest

final class CrossValidationSummaryTests: XCTestCase {
    /// Against Python's statistics.mean / statistics.stdev of [0.8, 0.75, 0.9, 0.7, 0.85]:
    /// 0.8 and 0.0790569415042095.
    func testMeanAndSampleStandardDeviation() {
        let summary = CrossValidationSummary(accuracies: [0.8, 0.75, 0.9, 0.7, 0.85])
        XCTAssertEqual(summary.mean, 0.8, accuracy: 1e-15)
        XCTAssertEqual(summary.standardDeviation, 0.0790569415042095, accuracy: 1e-15)
        XCTAssertEqual(CrossValidationSummary(accuracies: [0.6]).standardDeviation, 0)
        XCTAssertEqual(CrossValidationSummary(accuracies: []).mean, 0)
    }
}
