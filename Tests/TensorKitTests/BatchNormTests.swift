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
            let y = batchNorm2d(x, weight: w, bias: b, runningMean: &rm, runningVar: &rv,
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
