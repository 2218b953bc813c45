import Foundation
import Training
import XCTest

final class ConfusionMatrixTests: XCTestCase {
    /// Counts, accuracy and per-class recall of a hand-worked example (as
    /// sklearn.metrics.confusion_matrix and recall_score(average=None) give for these labels).
    func testCountsAndAccuracies() throws {
        var m = ConfusionMatrix(classes: ["a", "b", "c"])
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2]
        let predicted = [0, 0, 1, 1, 2, 2, 2, 2, 0]
        for (t, p) in zip(truth, predicted) { m.add(truth: t, prediction: p) }
        XCTAssertEqual(m.counts, [[2, 1, 0], [0, 1, 1], [1, 0, 3]])
        XCTAssertEqual(m.total, 9)
        XCTAssertEqual(m.correct, 6)
        XCTAssertEqual(m.accuracy, 6.0 / 9.0, accuracy: 1e-15)
        XCTAssertEqual(m.perClassAccuracy.map { $0 ?? -1 }, [2.0 / 3.0, 0.5, 0.75])
        XCTAssertTrue(m.text.contains("66.7%"), m.text)
        let image = try m.image(cellSize: 10)
        XCTAssertEqual(image.width, 30)
        XCTAssertEqual(image.height, 30)
        XCTAssertEqual(Array(image.pngData().prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // A class without examples has no accuracy rather than 0 or NaN.
        XCTAssertNil(ConfusionMatrix(classes: ["x", "y"]).perClassAccuracy[0])
    }
}
