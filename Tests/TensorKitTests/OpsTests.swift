import XCTest
@testable import TensorKit

/// Pooling, activations, reductions, elementwise arithmetic, linear, softmax and cross-entropy
/// against PyTorch fixtures and finite differences.
final class OpsTests: XCTestCase {
    private func checkUnary(_ c: String, rtol: Double = 1e-4, _ f: (Tensor) -> Tensor) throws {
        let x = try fixture(c, "x").requiringGrad()
        let y = f(x)
        let expected = try fixture(c, "y")
        assertClose(y.reshaped(to: expected.shape), expected, rtol: rtol, "\(c) forward")
        y.backward(gradient: try fixture(c, "gy").reshaped(to: y.shape))
        assertClose(x.grad, try fixture(c, "dx"), rtol: rtol, "\(c) backward")
    }

    func testPoolingAgreesWithPyTorch() throws {
        for c in ["maxpool_3_2_1", "maxpool_2_2_0", "maxpool_1x1map", "maxpool_3_1_1"] {
            let k = Int(try fixture(c, "k").scalar), s = Int(try fixture(c, "s").scalar), p = Int(try fixture(c, "p").scalar)
            try checkUnary(c, rtol: 1e-6) { maxPool2d($0, kernelSize: k, stride: s, padding: p) }
        }
        for c in ["avgpool_1x1", "avgpool_2x3"] {
            let oh = Int(try fixture(c, "oh").scalar), ow = Int(try fixture(c, "ow").scalar)
            try checkUnary(c) { adaptiveAvgPool2d($0, outputSize: (oh, ow)) }
        }
    }

    func testUnaryOpsAgreeWithPyTorch() throws {
        try checkUnary("relu", rtol: 1e-6) { $0.relu() }
        try checkUnary("softmax") { $0.softmax() }
        try checkUnary("log_softmax") { $0.logSoftmax() }
        try checkUnary("exp") { $0.exp() }
        try checkUnary("log") { $0.log() }
        try checkUnary("sum", rtol: 1e-5) { $0.sum() }
        try checkUnary("mean", rtol: 1e-5) { $0.mean() }
        try checkUnary("flatten", rtol: 0) { $0.flattened() }
    }

    func testBinaryOpsAgreeWithPyTorch() throws {
        let ops: [(String, (Tensor, Tensor) -> Tensor)] = [
            ("add", { $0 + $1 }), ("sub", { $0 - $1 }), ("mul", { $0 * $1 }), ("div", { $0 / $1 }),
            ("add_relu", { addReLU($0, $1) }), ("matmul", { matmul($0, $1) }),
        ]
        for (c, f) in ops {
            let a = try fixture(c, "a").requiringGrad(), b = try fixture(c, "b").requiringGrad()
            let y = f(a, b)
            assertClose(y, try fixture(c, "y"), "\(c) forward")
            y.backward(gradient: try fixture(c, "gy"))
            assertClose(a.grad, try fixture(c, "da"), "\(c) da")
            assertClose(b.grad, try fixture(c, "db"), "\(c) db")
        }
    }

    func testLinearAgreesWithPyTorch() throws {
        let x = try fixture("linear", "x").requiringGrad(), w = try fixture("linear", "w").requiringGrad()
        let b = try fixture("linear", "b").requiringGrad()
        let y = linear(x, weight: w, bias: b)
        assertClose(y, try fixture("linear", "y"), "linear forward")
        y.backward(gradient: try fixture("linear", "gy"))
        assertClose(x.grad, try fixture("linear", "dx"), "linear dx")
        assertClose(w.grad, try fixture("linear", "dw"), "linear dw")
        assertClose(b.grad, try fixture("linear", "db"), "linear db")
    }

    func testCrossEntropyAgreesWithPyTorch() throws {
        for c in ["ce_hard", "ce_smooth"] {
            let z = try fixture(c, "logits").requiringGrad()
            let labels = try fixture(c, "labels").scalars.map { Int($0) }
            let loss = crossEntropy(z, labels: labels, labelSmoothing: try fixture(c, "eps").scalar)
            XCTAssertEqual(
                Double(loss.scalar), Double(try fixture(c, "loss").scalar), accuracy: 1e-5 * Double(abs(try fixture(c, "loss").scalar)), c)
            loss.backward()
            assertClose(z.grad, try fixture(c, "dlogits"), "\(c) dlogits")
        }
        let z = try fixture("ce_soft", "logits").requiringGrad()
        let loss = crossEntropy(z, targets: try fixture("ce_soft", "targets"), labelSmoothing: 0.1)
        XCTAssertEqual(loss.scalar, try fixture("ce_soft", "loss").scalar, accuracy: 1e-5)
        loss.backward()
        assertClose(z.grad, try fixture("ce_soft", "dlogits"), "soft-target dlogits")
    }

    func testFiniteDifferences() {
        let x4 = randomTensor([2, 3, 7, 6], seed: 11)
        gradCheck([x4], h: 1e-3, "maxPool2d 3/2/1") { maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1) }
        gradCheck([x4], "adaptiveAvgPool2d") { adaptiveAvgPool2d($0[0], outputSize: (2, 4)) }
        gradCheck([x4], h: 1e-3, "relu") { $0[0].relu() }
        let y4 = randomTensor([2, 3, 7, 6], seed: 12)
        gradCheck([x4, y4], h: 1e-3, "addReLU") { addReLU($0[0], $0[1]) }
        gradCheck([x4, y4], "mul") { $0[0] * $0[1] }
        gradCheck([x4, y4 * 0.1 + 2], "div") { $0[0] / $0[1] }
        gradCheck([x4, y4], "add/sub/affine") { ($0[0] + $0[1]) - $0[1] * 3 + 1 }
        gradCheck([x4], "sum, mean") { t in t[0].sum() * 0.5 + t[0].mean() }
        gradCheck([x4], "exp") { $0[0].exp() }
        gradCheck([x4.exp()], "log") { $0[0].log() }
        gradCheck([x4], "reshape/flatten") { $0[0].flattened().reshaped(to: [-1, 2]) }
        let z = randomTensor([4, 5], seed: 13), w = randomTensor([3, 5], seed: 14), b = randomTensor([3], seed: 15)
        gradCheck([z, w, b], "linear") { linear($0[0], weight: $0[1], bias: $0[2]) }
        gradCheck([z, randomTensor([5, 2], seed: 16)], "matmul") { matmul($0[0], $0[1]) }
        gradCheck([z], "softmax") { $0[0].softmax() }
        gradCheck([z], "logSoftmax") { $0[0].logSoftmax() }
        gradCheck([z], "crossEntropy smoothed") { crossEntropy($0[0], labels: [1, 0, 4, 2], labelSmoothing: 0.2) }
        let soft = (randomTensor([4, 5], seed: 17)).softmax()
        gradCheck([z], "crossEntropy soft") { crossEntropy($0[0], targets: soft, labelSmoothing: 0.1) }
        var g = RandomGenerator(seed: 3)
        let maskSeed = g
        gradCheck([z], "dropout (fixed mask)") { t in
            var gen = maskSeed
            return dropout(t[0], p: 0.3, training: true, generator: &gen)
        }
        _ = g.next()
    }

    func testDropoutIsInvertedAndOnlyInTraining() {
        let x = Tensor(repeating: 2, shape: [100, 100])
        var g = RandomGenerator(seed: 1)
        let y = dropout(x, p: 0.25, training: true, generator: &g).scalars
        let kept = y.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 2 / 0.75) < 1e-6 }, "kept values are scaled by 1/(1-p)")
        // 10,000 Bernoulli(0.75) draws: 5 standard deviations is about ±217.
        XCTAssertEqual(Double(kept.count), 7500, accuracy: 220)
        XCTAssertEqual(dropout(x, p: 0.25, training: false, generator: &g).scalars, x.scalars)
        let layer = Dropout(p: 0.5, seed: 4)
        layer.eval()
        XCTAssertEqual(layer(x).scalars, x.scalars)
    }
}

/// The SIMD 3×3/2 max pool (wide maps) against the scalar path, which the PyTorch fixtures check.
final class MaxPoolFastPathTests: XCTestCase {
    func testMatchesScalarPathIncludingTiesInfinityAndNaN() {
        for (shape, padding) in [([2, 3, 9, 37], 1), ([1, 2, 8, 40], 0), ([2, 1, 5, 17], 1)] {
            var x = randomTensor(shape, seed: 40)
            x.withUnsafeMutableBufferPointer { p in
                for i in stride(from: 0, to: p.count, by: 7) { p[i] = 0.5 }  // ties
                for i in stride(from: 3, to: p.count, by: 53) { p[i] = -.infinity }
            }
            var withNaN = x
            withNaN[0, 0, 2, 5] = .nan
            for input in [x, withNaN] {
                var results: [(Tensor, Tensor?)] = []
                for fast in [true, false] {
                    KernelConfiguration.withCurrent(changing: { $0.maxPoolFastPath = fast }) {
                        let leaf = input.requiringGrad()
                        let y = maxPool2d(leaf, kernelSize: 3, stride: 2, padding: padding)
                        y.backward(gradient: randomTensor(y.shape, seed: 41))
                        results.append((y, leaf.grad))
                    }
                }
                let (a, b) = (results[0].0.scalars, results[1].0.scalars)
                XCTAssertEqual(a.count, b.count)
                for i in a.indices { XCTAssertTrue(a[i] == b[i] || (a[i].isNaN && b[i].isNaN), "\(shape) output \(i): \(a[i]) vs \(b[i])") }
                XCTAssertEqual(results[0].1?.scalars, results[1].1?.scalars, "\(shape) padding \(padding): gradients")
                // Without gradient recording the fast path computes values only (no positions).
                let valuesOnly = withNoGrad { maxPool2d(input, kernelSize: 3, stride: 2, padding: padding) }.scalars
                for i in b.indices {
                    XCTAssertTrue(
                        valuesOnly[i] == b[i] || (valuesOnly[i].isNaN && b[i].isNaN),
                        "\(shape) output \(i) without gradients: \(valuesOnly[i]) vs \(b[i])")
                }
            }
        }
        // An all-(−∞) window must still route its gradient inside the image.
        let x = Tensor(repeating: -.infinity, shape: [1, 1, 4, 20]).requiringGrad()
        let y = maxPool2d(x, kernelSize: 3, stride: 2, padding: 1)
        y.backward(gradient: Tensor(repeating: 1, shape: y.shape))
        XCTAssertEqual(x.grad?.scalars.reduce(0, +), Float(y.count))
    }
}
