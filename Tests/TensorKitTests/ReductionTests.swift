import XCTest
@testable import TensorKit

/// The long sums behind batch norm and bias gradients (`Kernels.sum`, `sumOfSquares`,
/// `sumAndCentredDot`) against the same sums accumulated in double precision, value by value.
final class ReductionTests: XCTestCase {
    /// Every length class: empty, tail only, whole vectors, partial and whole 256-value blocks.
    let counts = [0, 1, 7, 15, 16, 17, 255, 256, 257, 1000, 13_824, 100_003]

    func testSumsAgreeWithDoubleAccumulation() {
        var generator = RandomGenerator(seed: 11)
        for count in counts {
            let x = (0..<count).map { _ in generator.nextUnitFloat() * 4 - 1 }
            let g = (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
            let mean: Float = 0.75
            // A fused ReLU after `a·x + shift`: open where x < 0.9, about half the values.
            let gate = ReLUGate(a: -1.5, shift: 1.35)
            var sum = 0.0, squares = 0.0, dy = 0.0, dot = 0.0, dyMasked = 0.0, dotMasked = 0.0, scale = 0.0
            for i in 0..<count {
                let d = Double(x[i]) - Double(mean)
                sum += Double(x[i]); squares += d * d
                dy += Double(g[i]); dot += Double(g[i]) * d
                if gate.a * x[i] + gate.shift > 0 { dyMasked += Double(g[i]); dotMasked += Double(g[i]) * d }
                scale += abs(Double(g[i]) * d) + abs(Double(x[i]))
            }
            // Relative to the sum of magnitudes: the bound any summation order can promise.
            let tolerance = 1e-6 * max(scale, 1)
            x.withUnsafeBufferPointer { xp in
                g.withUnsafeBufferPointer { gp in
                    do {
                        let x = xp.baseAddress ?? UnsafePointer(bitPattern: 16)!
                        let g = gp.baseAddress ?? UnsafePointer(bitPattern: 16)!
                        XCTAssertEqual(Kernels.sum(x, count: count), sum, accuracy: tolerance, "sum of \(count)")
                        XCTAssertEqual(
                            Kernels.sumOfSquares(x, centredOn: mean, count: count), squares,
                            accuracy: tolerance, "sum of squares of \(count)")
                        let plain = Kernels.sumAndCentredDot(g, x, centredOn: mean, gate: nil, count: count)
                        XCTAssertEqual(plain.0, dy, accuracy: tolerance, "sum of g, \(count)")
                        XCTAssertEqual(plain.1, dot, accuracy: tolerance, "sum of g·(x − mean), \(count)")
                        let masked = Kernels.sumAndCentredDot(g, x, centredOn: mean, gate: gate, count: count)
                        XCTAssertEqual(masked.0, dyMasked, accuracy: tolerance, "masked sum of g, \(count)")
                        XCTAssertEqual(masked.1, dotMasked, accuracy: tolerance, "masked sum of g·(x − mean), \(count)")
                    }
                }
            }
        }
    }

    /// A million values near 1: a sequential float sum drifts by ~1e-4 relative here (each add
    /// rounds at the running total's magnitude); the blocked sum stays at float resolution.
    func testLongSumKeepsFloatResolution() {
        var generator = RandomGenerator(seed: 12)
        let x = (0..<1_000_000).map { _ in 1 + generator.nextUnitFloat() * 1e-3 }
        let exact = x.reduce(0.0) { $0 + Double($1) }
        var sequential: Float = 0
        for v in x { sequential += v }
        let blocked = x.withUnsafeBufferPointer { Kernels.sum($0.baseAddress!, count: $0.count) }
        XCTAssertLessThan(abs(blocked - exact) / exact, 1e-7)
        // The reference point: the naive order really is worse on this input.
        XCTAssertGreaterThan(abs(Double(sequential) - exact) / exact, 1e-5)
    }
}
