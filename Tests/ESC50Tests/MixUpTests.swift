@testable import ESC50
import _TestSupport
import XCTest

final class MixUpTests: XCTestCase {
    private struct LossFixture: Decodable {
        var logits: [Double]
        var batch: Int
        var classes: Int
        var labels: [Int]
        var partner: [Int]
        var lambda: Double
        var labelSmoothing: Double
        var mixedLoss: Double
        var unmixedLoss: Double
    }

    /// Mean cross-entropy of `logits` against soft `targets` (both `[batch, classes]`), in Double.
    private func crossEntropy(_ logits: [Double], _ targets: [Float], batch: Int, classes: Int) -> Double {
        var total = 0.0
        for i in 0..<batch {
            let row = Array(logits[i * classes..<(i + 1) * classes])
            let top = row.max()!
            let logSum = top + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) })
            for c in 0..<classes { total -= Double(targets[i * classes + c]) * (row[c] - logSum) }
        }
        return total / Double(batch)
    }

    /// The soft targets reproduce PyTorch's `lam * CE(y_a) + (1 - lam) * CE(y_b)` with label smoothing.
    func testSoftTargetsGiveTheReferenceMixedLoss() throws {
        let data = try Data(contentsOf: Fixtures.url("ESC50", "mixup_loss.json"))
        let f = try JSONDecoder().decode(LossFixture.self, from: data)
        let mixed = Batch(
            features: [], shape: [f.batch, 1, 0, 0], labels: f.labels, itemIndices: Array(0..<f.batch),
            mix: .init(partnerLabels: f.partner.map { f.labels[$0] }, lambda: Float(f.lambda)))
        let targets = try mixed.targets(classCount: f.classes, labelSmoothing: Float(f.labelSmoothing))
        XCTAssertEqual(crossEntropy(f.logits, targets, batch: f.batch, classes: f.classes), f.mixedLoss, accuracy: 1e-5)
        for i in 0..<f.batch {
            XCTAssertEqual(targets[i * f.classes..<(i + 1) * f.classes].reduce(0, +), 1, accuracy: 1e-6)
        }
        var plain = mixed
        plain.mix = nil
        let plainTargets = try plain.targets(classCount: f.classes, labelSmoothing: Float(f.labelSmoothing))
        XCTAssertEqual(crossEntropy(f.logits, plainTargets, batch: f.batch, classes: f.classes), f.unmixedLoss, accuracy: 1e-5)
        XCTAssertThrowsError(try mixed.targets(classCount: f.labels.max()!)) { error in
            XCTAssertTrue("\(error)".contains("outside 0..<\(f.labels.max()!)"), "\(error)")
        }
        XCTAssertThrowsError(try mixed.targets(classCount: 0))
        XCTAssertThrowsError(try mixed.targets(classCount: f.classes, labelSmoothing: 1))
        XCTAssertThrowsError(try mixed.targets(classCount: f.classes, labelSmoothing: -0.1))
    }

    func testPlanMixesFeaturesWithAPermutation() {
        let plan = MixPlan(lambda: 0.25, partner: [2, 0, 1])
        var features: [Float] = [1, 1, 10, 10, 100, 100]
        plan.apply(to: &features, stride: 2)
        let a: Float = 0.25, b: Float = 0.75
        let expected: [Float] = [
            a * 1 + b * 100, a * 1 + b * 100, a * 10 + b * 1, a * 10 + b * 1,
            a * 100 + b * 10, a * 100 + b * 10,
        ]
        XCTAssertEqual(features, expected)
    }

    func testAboutThirtyPercentOfBatchesAreMixed() throws {
        let mixUp = try MixUp()
        var generator = SeededGenerator(seed: 5)
        let n = 20_000
        var mixed = 0
        for _ in 0..<n {
            guard let plan = mixUp.plan(count: 8, using: &generator) else { continue }
            mixed += 1
            XCTAssertEqual(plan.partner.sorted(), Array(0..<8))
            XCTAssertTrue((0...1).contains(plan.lambda))
        }
        // Binomial(n, 0.3): five standard deviations.
        XCTAssertEqual(Double(mixed) / Double(n), 0.3, accuracy: 5 * (0.3 * 0.7 / Double(n)).squareRoot())
        var never = SeededGenerator(seed: 5)
        XCTAssertNil(try MixUp(probability: 0).plan(count: 8, using: &never))
    }
}
