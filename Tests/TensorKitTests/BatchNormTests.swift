import XCTest
@testable import TensorKit

/// batchNorm2d against PyTorch (`F.batch_norm`, momentum 0.1, eps 1e-5) and finite differences.
final class BatchNormTests: XCTestCase {
    func testAgreesWithPyTorch() throws {
        for c in ["bn_train", "bn_train_relu", "bn_eval", "bn_train_1x1"] {
            let meta = try fixture(c, "meta").scalars
            let training = meta[0] == 1, relu = meta[1] == 1
            let x = try fixture(c, "x").requiringGrad()
            let w = try fixture(c, "w").requiringGrad(), b = try fixture(c, "b").requiringGrad()
            var rm = try fixture(c, "rm0"), rv = try fixture(c, "rv0")
            let y = batchNorm2d(
                x, weight: w, bias: b, runningMean: &rm, runningVar: &rv,
                training: training, fusedReLU: relu)
            assertClose(y, try fixture(c, "y"), "\(c) forward")
            assertClose(rm, try fixture(c, "rm"), rtol: 1e-5, "\(c) running mean")
            assertClose(rv, try fixture(c, "rv"), rtol: 1e-5, "\(c) running var")
            y.backward(gradient: try fixture(c, "gy"))
            assertClose(x.grad, try fixture(c, "dx"), "\(c) dx")
            assertClose(w.grad, try fixture(c, "dw"), "\(c) dweight")
            assertClose(b.grad, try fixture(c, "db"), "\(c) dbias")
        }
    }

    func testFiniteDifferences() {
        let x = randomTensor([3, 2, 3, 4], seed: 5, scale: 2, shift: 0.5)
        let w = randomTensor([2], seed: 6, scale: 0.3, shift: 1), b = randomTensor([2], seed: 7)
        for training in [true, false] {
            gradCheck([x, w, b], h: 1e-2, "batch norm training=\(training)") { t in
                var rm = Tensor(repeating: 0.1, shape: [2]), rv = Tensor(repeating: 1.5, shape: [2])
                return batchNorm2d(t[0], weight: t[1], bias: t[2], runningMean: &rm, runningVar: &rv, training: training)
            }
        }
    }

    /// relu(bn(x) + r) in one pass against the unfused chain (each part checked against PyTorch)
    /// and against finite differences.
    func testFusedResidualAddAndReLU() {
        let x = randomTensor([3, 2, 3, 4], seed: 15, scale: 2, shift: 0.5), r = randomTensor([3, 2, 3, 4], seed: 16)
        let w = randomTensor([2], seed: 17, scale: 0.3, shift: 1), b = randomTensor([2], seed: 18)
        for training in [true, false] {
            var rm1 = Tensor(repeating: 0.1, shape: [2]), rv1 = Tensor(repeating: 1.5, shape: [2])
            var rm2 = rm1, rv2 = rv1
            let xs = [x, r, w, b].map { $0.requiringGrad() }, ys = [x, r, w, b].map { $0.requiringGrad() }
            let fused = batchNorm2d(
                xs[0], weight: xs[2], bias: xs[3], runningMean: &rm1, runningVar: &rv1,
                training: training, residual: xs[1], fusedReLU: true)
            let plain = addReLU(
                batchNorm2d(
                    ys[0], weight: ys[2], bias: ys[3], runningMean: &rm2, runningVar: &rv2,
                    training: training), ys[1])
            assertClose(fused, plain, rtol: 1e-6, "fused forward, training \(training)")
            let g = randomTensor(fused.shape, seed: 19)
            fused.backward(gradient: g)
            plain.backward(gradient: g)
            for i in 0..<4 { assertClose(xs[i].grad, ys[i].grad!, rtol: 1e-5, "fused gradient \(i), training \(training)") }
            gradCheck([x, r, w, b], h: 1e-3, "bn+add+relu training=\(training)") { t in
                var rm = Tensor(repeating: 0.1, shape: [2]), rv = Tensor(repeating: 1.5, shape: [2])
                return batchNorm2d(
                    t[0], weight: t[2], bias: t[3], runningMean: &rm, runningVar: &rv,
                    training: training, residual: t[1], fusedReLU: true)
            }
        }
    }

    /// relu(bn(x)) with the mask applied inside the batch-norm backward kernel (no residual),
    /// on planes long enough for its SIMD loop and a tail: against the unfused chain and
    /// finite differences.
    func testFusedReLUBackwardWithoutResidual() {
        let x = randomTensor([2, 3, 5, 7], seed: 25, scale: 2, shift: 0.3)
        let w = randomTensor([3], seed: 26, scale: 0.3, shift: 1), b = randomTensor([3], seed: 27)
        for training in [true, false] {
            let run = Self.fusedAndUnfusedReLU(
                x, w, b, training: training, runningMean: 0.1, runningVar: 1.5, gradient: randomTensor(x.shape, seed: 28))
            for i in 0..<3 { assertClose(run.fusedGrads[i], run.plainGrads[i]!, rtol: 1e-5, "gradient \(i), training \(training)") }
            // Finite differences only in training: in evaluation mode with these values an
            // output lies within h of the ReLU kink, where the difference quotient is meaningless.
            guard training else { continue }
            gradCheck([x, w, b], h: 1e-3, "bn+relu training=\(training)") { t in
                var rm = Tensor(repeating: 0.1, shape: [3]), rv = Tensor(repeating: 1.5, shape: [3])
                return batchNorm2d(
                    t[0], weight: t[1], bias: t[2], runningMean: &rm, runningVar: &rv,
                    training: training, fusedReLU: true)
            }
        }
    }

    /// The fused backward pass rebuilds the ReLU's mask from the input instead of reading the
    /// output: it must close exactly where the output is 0, kink included. Each channel holds
    /// values equal to its mean (the output there is exactly β = 0: closed) beside values just
    /// above and below it; the gradients must equal the unfused chain's bit for bit.
    func testFusedReLUMaskAgreesWithTheOutputAtTheKink() throws {
        let values: [Float] = (0..<2 * 2 * 9).map { i in [-1, 0, 1, 0, 1e-7, -1e-7, 0, 3, -3][i % 9] * Float(1 + i / 18) }
        let x = try Tensor(shape: [2, 2, 3, 3], scalars: values)
        let w = try Tensor(shape: [2], scalars: [0.7, 1.9]), b = Tensor(repeating: 0, shape: [2])
        let g = try Tensor(shape: x.shape, scalars: (0..<values.count).map { Float($0 % 5) - 1.5 })
        for training in [true, false] {
            let run = Self.fusedAndUnfusedReLU(x, w, b, training: training, runningMean: 0, runningVar: 1, gradient: g)
            XCTAssertEqual(run.fused.scalars, run.plain.scalars)
            XCTAssertTrue(run.fused.scalars.contains(0), "some outputs sit at the kink")
            for i in 0..<3 {
                XCTAssertEqual(run.fusedGrads[i]?.scalars, run.plainGrads[i]?.scalars, "gradient \(i), training \(training)")
            }
        }
    }

    /// relu(bn(x)) fused (the mask inside batch norm's backward kernel) and as the unfused chain
    /// (`batchNorm2d(...).relu()`), each from running statistics filled with the values given,
    /// both backpropagated from `gradient`: the outputs and the gradients of x, weight and bias.
    static func fusedAndUnfusedReLU(
        _ x: Tensor, _ w: Tensor, _ b: Tensor, training: Bool, runningMean: Float, runningVar: Float, gradient: Tensor
    ) -> (fused: Tensor, plain: Tensor, fusedGrads: [Tensor?], plainGrads: [Tensor?]) {
        let c = w.shape[0]
        var rm1 = Tensor(repeating: runningMean, shape: [c]), rv1 = Tensor(repeating: runningVar, shape: [c])
        var rm2 = rm1, rv2 = rv1
        let xs = [x, w, b].map { $0.requiringGrad() }, ys = [x, w, b].map { $0.requiringGrad() }
        let fused = batchNorm2d(
            xs[0], weight: xs[1], bias: xs[2], runningMean: &rm1, runningVar: &rv1, training: training, fusedReLU: true)
        let plain = batchNorm2d(
            ys[0], weight: ys[1], bias: ys[2], runningMean: &rm2, runningVar: &rv2, training: training
        ).relu()
        fused.backward(gradient: gradient)
        plain.backward(gradient: gradient)
        return (fused, plain, xs.map(\.grad), ys.map(\.grad))
    }

    /// Training statistics of channels far from zero against a float64 reference: a mean 10⁴
    /// standard deviations out (where a one-pass E[x²] − μ² loses every digit: checked by
    /// mutation), images with different offsets (the batch mean far from any one image's), and
    /// an outlier first value (which a one-pass form shifted by it would feel).
    func testTrainingStatisticsOfOffsetChannelsAgreeWithFloat64() throws {
        let n = 3, c = 3, hw = 4 * 37
        var generator = RandomGenerator(seed: 41)
        var values = [Float](repeating: 0, count: n * c * hw)
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<hw {
                    let noise = generator.nextUnitFloat() * 2 - 1
                    let offset: Float = [1e4, Float(b) * 50, -3][ch]
                    values[(b * c + ch) * hw + i] = offset + noise
                }
            }
        }
        values[2 * hw] = 400  // channel 2's first value: an outlier
        let x = try Tensor(shape: [n, c, 2, 74], scalars: values)
        var rm = Tensor(repeating: 0, shape: [c]), rv = Tensor(repeating: 1, shape: [c])
        let y = batchNorm2d(x, weight: nil, bias: nil, runningMean: &rm, runningVar: &rv, training: true, momentum: 1)
        let ys = y.scalars
        for ch in 0..<c {
            let planes = (0..<n).map { b in values[((b * c + ch) * hw)..<((b * c + ch + 1) * hw)].map(Double.init) }
            let all = planes.flatMap { $0 }
            let mean = all.reduce(0, +) / Double(all.count)
            let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count)
            // Float32's resolution at the channel's magnitude bounds what any method can give.
            let resolution = Double(abs(mean) + 1) * 1.2e-7
            XCTAssertEqual(Double(rm.scalars[ch]), mean, accuracy: 2 * resolution, "mean of channel \(ch)")
            XCTAssertEqual(
                Double(rv.scalars[ch]), variance * Double(all.count) / Double(all.count - 1),
                accuracy: 1e-4 * variance, "variance of channel \(ch)")
            // a·x + shift rounds at x's magnitude: |μ|/σ ulps of the output.
            let outputTolerance = 1e-4 + 3e-7 * abs(mean) / variance.squareRoot()
            for b in 0..<n {
                for i in stride(from: 0, to: hw, by: 7) {
                    let expected = (planes[b][i] - mean) / (variance + 1e-5).squareRoot()
                    let got = Double(ys[(b * c + ch) * hw + i])
                    XCTAssertEqual(
                        got, expected, accuracy: outputTolerance * max(1, abs(expected)),
                        "channel \(ch), image \(b), value \(i)")
                }
            }
        }
    }

    func testLayerTracksBatchesAndSwitchesToRunningStatsInEval() {
        let bn = BatchNorm2d(2)
        let x = randomTensor([4, 2, 3, 3], seed: 8, scale: 3, shift: 2)
        _ = bn(x); _ = bn(x)
        XCTAssertEqual(bn.numBatchesTracked.value.scalar, 2)
        bn.eval()
        let y = bn(x)
        // Eval uses running statistics: y = (x − rm) / √(rv + eps) (γ = 1, β = 0).
        let rm = bn.runningMean.value.scalars, rv = bn.runningVar.value.scalars
        let xs = x.scalars, ys = y.scalars
        for i in 0..<xs.count {
            let c = (i / 9) % 2
            XCTAssertEqual(ys[i], (xs[i] - rm[c]) / (rv[c] + 1e-5).squareRoot(), accuracy: 1e-5)
        }
        XCTAssertEqual(bn.numBatchesTracked.value.scalar, 2, "eval does not count batches")
    }
}

final class BatchNormFoldingTests: XCTestCase {
    /// The folded convolution against the unfolded conv → BN(eval) chain, whose parts are
    /// themselves checked against PyTorch.
    func testFoldedConvolutionEqualsConvThenEvalBatchNorm() throws {
        var g = RandomGenerator(seed: 21)
        for bias in [false, true] {
            let conv = Conv2d(3, 5, kernelSize: 3, stride: 2, padding: 1, bias: bias, generator: &g)
            let bn = BatchNorm2d(5)
            bn.weight.value = randomTensor([5], seed: 1, scale: 0.3, shift: 1)
            bn.bias.value = randomTensor([5], seed: 2)
            bn.runningMean.value = randomTensor([5], seed: 3, scale: 0.2)
            bn.runningVar.value = randomTensor([5], seed: 4, scale: 0.1, shift: 1)
            bn.eval()
            let x = randomTensor([2, 3, 9, 8], seed: 5)
            let expected = withNoGrad { bn(conv(x)) }
            assertClose(withNoGrad { conv.foldingBatchNorm(bn)(x) }, expected, rtol: 1e-5, "folded conv, bias \(bias)")
        }
        XCTAssertThrowsError(try Conv2d(weight: Tensor(zeros: [4, 3, 3]), bias: nil))
        XCTAssertThrowsError(try Conv2d(weight: Tensor(zeros: [4, 3, 3, 3]), bias: Tensor(zeros: [3])))
    }
}
