import XCTest
@testable import TensorKit

/// The AVX-512 and AVX2 Adam updates (`tkoptim_adam`, 16 and 8 lanes) against the Swift loop they
/// replace (the portable kernel set, itself checked against torch.optim by `OptimizerTests`): the same
/// parameters and moments bit for bit, on every length class (tail-only, whole vectors, a
/// masked tail, several threads' ranges), with and without AMSGrad, coupled (Adam) and decoupled
/// (AdamW) weight decay, both branches of the lerp, `maximize`, and NaN, infinities, zeros and
/// subnormals among the values.
final class AdamKernelTests: XCTestCase {
    func testVectorUpdateMatchesTheSwiftLoopBitForBit() throws {
        var portable = KernelConfiguration.current
        portable.kernelSet = .portable
        XCTAssertNil(portable.vectorOptimizerWidth)
        var widths: [Int32] = []
        for set in [KernelConfiguration.KernelSet.avx512, .avx2] {
            var vector = KernelConfiguration.current
            vector.kernelSet = set
            // A set the CPU lacks falls back to a narrower one: test each width once.
            guard let width = vector.vectorOptimizerWidth, !widths.contains(width) else { continue }
            widths.append(width)
            check(vector, against: portable)
        }
        try XCTSkipIf(widths.isEmpty, "the vector Adam update needs AVX2 or AVX-512F")
    }

    private func check(_ vector: KernelConfiguration, against portable: KernelConfiguration) {
        var generator = RandomGenerator(seed: 31)
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, 1e30, -1e-30]
        for count in [1, 15, 16, 17, 33, 1000, 70_001] {
            for variant in 0..<8 {
                let amsgrad = variant & 1 != 0, coupled = variant & 2 != 0, smallWeight = variant & 4 != 0
                let scalars = OptimizerKernels.AdamScalars(
                    decoupledDecayFactor: coupled ? 1 : 0.99998, coupledWeightDecay: coupled ? 0.01 : 0,
                    oneMinusBeta1: smallWeight ? 0.1 : 0.7, beta2: 0.999, oneMinusBeta2: 0.001,
                    biasCorrection2Sqrt: 0.0447, eps: 1e-8, negativeStepSize: -0.0021, amsgrad: amsgrad,
                    maximize: variant == 5)
                func values(_ scale: Float, specialsAt offset: Int, nonNegative: Bool = false) -> [Float] {
                    (0..<count).map { i in
                        if i % 97 == offset {
                            let special = specials[(i / 97) % specials.count]
                            return nonNegative ? abs(special) : special
                        }
                        let x = (generator.nextUnitFloat() * 2 - 1) * scale
                        return nonNegative ? abs(x) : x
                    }
                }
                // Specials at other places in each array, so that a NaN moment meets a finite gradient.
                let p = values(1, specialsAt: 7), g = values(0.1, specialsAt: 13), m = values(0.01, specialsAt: 29)
                let v = values(1e-4, specialsAt: 41, nonNegative: true), vMax = values(1e-4, specialsAt: 53, nonNegative: true)
                func run(_ configuration: KernelConfiguration) -> [[Float]] {
                    var (pa, ma, va, xa) = (p, m, v, vMax)
                    pa.withUnsafeMutableBufferPointer { pp in
                        ma.withUnsafeMutableBufferPointer { mp in
                            va.withUnsafeMutableBufferPointer { vp in
                                xa.withUnsafeMutableBufferPointer { xp in
                                    KernelConfiguration.withCurrent(configuration) {
                                        OptimizerKernels.adam(
                                            parameter: pp.baseAddress!, gradient: g, expAvg: mp.baseAddress!,
                                            expAvgSq: vp.baseAddress!, maxExpAvgSq: amsgrad ? xp.baseAddress! : nil,
                                            count: count, scalars)
                                    }
                                }
                            }
                        }
                    }
                    return [pa, ma, va, xa]
                }
                let fast = run(vector), reference = run(portable)
                for (k, name) in ["parameter", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"].enumerated() {
                    let same = zip(fast[k], reference[k]).allSatisfy { $0.bitPattern == $1.bitPattern }
                    XCTAssertTrue(same, "\(name), count \(count), variant \(variant), \(vector.kernelSet)")
                }
                // The update did something: most parameters moved.
                XCTAssertGreaterThan(zip(fast[0], p).filter { $0.bitPattern != $1.bitPattern }.count, count / 2)
            }
        }
    }
}
