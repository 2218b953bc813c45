@testable import ESC50
import _TestSupport
import XCTest

/// The Gamma and Beta samplers against scipy.stats (Kolmogorov-Smirnov on committed CDF
/// tables) and against their closed-form moments, with tolerances derived from the sample size.
final class DistributionTests: XCTestCase {
    /// The largest gap between the empirical CDF of `samples` and the reference CDF table.
    private func ksDistance(_ samples: [Double], table name: String) throws -> Double {
        let table = try NPYArray(contentsOf: Fixtures.url("ESC50", name))
        XCTAssertEqual(table.shape.first, 2)
        let n = table.shape[1]
        let xs = table.values[0..<n].map(Double.init), cdf = table.values[n..<2 * n].map(Double.init)
        let sorted = samples.sorted()
        var worst = 0.0
        for (x, f) in zip(xs, cdf) {
            // Empirical CDF at x: the share of samples <= x (binary search).
            var lo = 0, hi = sorted.count
            while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= x { lo = mid + 1 } else { hi = mid } }
            worst = max(worst, abs(Double(lo) / Double(sorted.count) - f))
        }
        return worst
    }

    /// The KS critical value at significance 0.001: 1.95 / sqrt(n).
    private func critical(_ n: Int) -> Double { 1.95 / Double(n).squareRoot() }

    func testBetaMatchesScipyAndItsMoments() throws {
        let beta = try BetaDistribution(alpha: 0.2, beta: 0.2)
        var generator = SeededGenerator(seed: 2024)
        let n = 200_000
        let samples = (0..<n).map { _ in beta.sample(using: &generator) }
        XCTAssertTrue(samples.allSatisfy { $0 >= 0 && $0 <= 1 && $0.isFinite })
        XCTAssertLessThan(try ksDistance(samples, table: "beta_0.2_0.2_cdf.npy"), critical(n))

        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        XCTAssertEqual(beta.mean, 0.5)
        XCTAssertEqual(beta.variance, 0.04 / (0.16 * 1.4), accuracy: 1e-12)
        // Standard errors: sd/sqrt(n) for the mean; for the variance sqrt((mu4 - sigma^4)/n),
        // bounded here by sqrt(mu4/n) with mu4 <= 1/16 for a variable in [0, 1]. Five of each.
        XCTAssertEqual(mean, beta.mean, accuracy: 5 * (beta.variance / Double(n)).squareRoot())
        XCTAssertEqual(variance, beta.variance, accuracy: 5 * (1.0 / 16 / Double(n)).squareRoot())
        // Beta(0.2, 0.2) is U-shaped: most mass sits near 0 and 1.
        let nearEdges = samples.filter { $0 < 0.1 || $0 > 0.9 }.count
        XCTAssertGreaterThan(Double(nearEdges) / Double(n), 0.6)
    }

    func testGammaMatchesScipyForShapesBelowAndAboveOne() throws {
        for shape in [0.2, 1.5, 5.0] {
            let gamma = try GammaDistribution(shape: shape)
            var generator = SeededGenerator(seed: UInt64(shape * 1000))
            let n = 100_000
            let samples = (0..<n).map { _ in gamma.sample(using: &generator) }
            XCTAssertTrue(samples.allSatisfy { $0 > 0 && $0.isFinite }, "shape \(shape)")
            XCTAssertLessThan(try ksDistance(samples, table: "gamma_\(shape)_cdf.npy"), critical(n), "shape \(shape)")
            let mean = samples.reduce(0, +) / Double(n)
            XCTAssertEqual(mean, shape, accuracy: 5 * (shape / Double(n)).squareRoot(), "shape \(shape)")
        }
    }

    func testSamplingIsReproducibleFromASeed() throws {
        let beta = try BetaDistribution(alpha: 0.2, beta: 0.2)
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9), c = SeededGenerator(seed: 10)
        let first = (0..<100).map { _ in beta.sample(using: &a) }
        XCTAssertEqual(first, (0..<100).map { _ in beta.sample(using: &b) })
        XCTAssertNotEqual(first, (0..<100).map { _ in beta.sample(using: &c) })
    }

    func testStreamsAreIndependentOfEachOther() {
        var a = SeededGenerator(seed: 1, stream: [1, 0])
        var b = SeededGenerator(seed: 1, stream: [1, 1])
        var c = SeededGenerator(seed: 1, stream: [0, 1])
        let x = (0..<4).map { _ in a.next() }, y = (0..<4).map { _ in b.next() }, z = (0..<4).map { _ in c.next() }
        XCTAssertNotEqual(x, y)
        XCTAssertNotEqual(y, z)
        XCTAssertNotEqual(x, z)
    }

    func testXoshiroMatchesTheReferenceImplementation() {
        // xoshiro256** from state (1, 2, 3, 4), per Blackman & Vigna's reference C code:
        // result = rotl(s[1] * 5, 7) * 9 on the first call = rotl(10, 7) * 9 = 11520.
        var generator = SeededGenerator(seed: 0)
        generator.setStateForTesting(1, 2, 3, 4)
        XCTAssertEqual(generator.next(), 11520)
        XCTAssertEqual(generator.next(), 0)
        XCTAssertEqual(generator.next(), 1509978240)
        XCTAssertEqual(generator.next(), 1215971899390074240)
    }

    func testInvalidParametersThrow() {
        XCTAssertThrowsError(try GammaDistribution(shape: 0))
        XCTAssertThrowsError(try GammaDistribution(shape: .nan))
        XCTAssertThrowsError(try BetaDistribution(alpha: -1, beta: 1)) { error in
            XCTAssertEqual(error as? DistributionError, .invalidParameter("alpha", value: -1))
        }
        XCTAssertThrowsError(try MixUp(probability: 1.5))
    }
}

extension DistributionTests {
    /// The seeded shuffle is a uniform permutation: each value lands in each position ~equally.
    func testSeededShuffleIsUniform() {
        var generator = SeededGenerator(seed: 77)
        let n = 5, trials = 50_000
        var counts = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for _ in 0..<trials {
            var values = Array(0..<n)
            values.seededShuffle(using: &generator)
            XCTAssertEqual(values.sorted(), Array(0..<n))
            for (position, value) in values.enumerated() { counts[value][position] += 1 }
        }
        // Chi-square with (n-1)^2 = 16 degrees of freedom; 39.25 is its 0.999 quantile.
        let expected = Double(trials) / Double(n)
        let chi2 = counts.joined().reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        XCTAssertLessThan(chi2, 39.25)
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3)
        XCTAssertEqual((0..<1000).map { _ in a.nextIndex(below: 7) }, (0..<1000).map { _ in b.nextIndex(below: 7) })
    }
}
