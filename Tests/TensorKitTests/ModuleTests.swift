import XCTest
@testable import TensorKit

/// A small network with PyTorch's module tree: state-dict keys, loading PyTorch's weights,
/// forward in train and eval mode, loss, every parameter gradient and the running statistics.
final class ModuleTests: XCTestCase {
    final class Tiny: Module {
        var isTraining = true
        let conv1: Sequential, conv2: Conv2d, bn2: BatchNorm2d, shortcut: Sequential
        let pool = AdaptiveAvgPool2d(), fc: Linear
        init() {
            var g = RandomGenerator(seed: 0)
            conv1 = Sequential(
                Conv2d(1, 4, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &g),
                BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
            conv2 = Conv2d(4, 8, kernelSize: 3, stride: 2, padding: 1, bias: false, generator: &g)
            bn2 = BatchNorm2d(8)
            shortcut = Sequential(Conv2d(4, 8, kernelSize: 1, stride: 2, bias: false, generator: &g), BatchNorm2d(8))
            fc = Linear(8, 3, generator: &g)
        }
        var namedChildren: [(name: String, module: any Module)] {
            [("conv1", conv1), ("conv2", conv2), ("bn2", bn2), ("shortcut", shortcut), ("pool", pool), ("fc", fc)]
        }
        func callAsFunction(_ x: Tensor) -> Tensor {
            let h = conv1(x)
            let y = addReLU(bn2(conv2(h)), shortcut(h))
            return fc(pool(y).flattened())
        }
    }

    private func pytorchState() throws -> [String: Tensor] {
        let keys = try JSONDecoder().decode([String].self, from: Data(contentsOf: Fixtures_url("tiny.keys.json")))
        var state: [String: Tensor] = [:]
        for k in keys { state[k] = try fixture("tiny", "init.\(k)") }
        return state
    }

    func testStateDictKeysAreExactlyPyTorchs() throws {
        let keys = try JSONDecoder().decode([String].self, from: Data(contentsOf: Fixtures_url("tiny.keys.json")))
        XCTAssertEqual(Tiny().stateEntries().map(\.name), keys)
        let entry = Tiny().stateEntries().first { $0.name == "conv1.1.num_batches_tracked" }
        XCTAssertEqual(entry?.dtype, .int64)
        XCTAssertEqual(entry?.value.shape, [])
    }

    func testTrainingStepAgreesWithPyTorch() throws {
        let net = Tiny()
        try net.loadStateDict(try pytorchState())
        let x = try fixture("tiny", "x")
        let labels = try fixture("tiny", "labels").scalars.map { Int($0) }
        let logits = net(x)
        assertClose(logits, try fixture("tiny", "logits"), "train-mode logits")
        let loss = crossEntropy(logits, labels: labels, labelSmoothing: 0.1)
        XCTAssertEqual(loss.scalar, try fixture("tiny", "loss").scalar, accuracy: 1e-5)
        loss.backward()
        for (name, p) in net.namedParameters() {
            assertClose(p.grad, try fixture("tiny", "grad.\(name)"), "grad of \(name)")
        }
        for (name, b) in net.namedBuffers() {
            let expected = try fixture("tiny", "after.\(name)")
            assertClose(b.value.reshaped(to: expected.shape), expected, rtol: 1e-5, "buffer \(name)")
        }
        net.eval()
        assertClose(withNoGrad { net(x) }, try fixture("tiny", "eval_logits"), "eval-mode logits")
    }

    func testLoadStateDictNamesMissingUnexpectedAndMismatchedKeys() throws {
        let net = Tiny()
        var state = try pytorchState()
        state["fc.weight"] = nil
        state["fc.extra"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try net.loadStateDict(state)) { error in
            XCTAssertEqual(error as? TensorError, .stateKeysMismatch(missing: ["fc.weight"], unexpected: ["fc.extra"]))
        }
        state = try pytorchState()
        state["conv2.weight"] = Tensor(zeros: [8, 4, 1, 1])
        XCTAssertThrowsError(try net.loadStateDict(state)) { error in
            XCTAssertEqual(error as? TensorError, .stateShapeMismatch(key: "conv2.weight", expected: [8, 4, 3, 3], actual: [8, 4, 1, 1]))
            XCTAssertTrue("\(error)".contains("conv2.weight"))
        }
    }

    func testTrainEvalPropagatesAndParametersAreCounted() {
        let net = Tiny()
        net.eval()
        XCTAssertTrue(net.namedModules().allSatisfy { !$0.module.isTraining })
        net.train()
        XCTAssertTrue(net.namedModules().allSatisfy { $0.module.isTraining })
        // conv1 4·1·49, bn 2·4, conv2 8·4·9, bn2 2·8, shortcut 8·4 + 2·8, fc 3·8 + 3
        XCTAssertEqual(net.parameterCount, 196 + 8 + 288 + 16 + 32 + 16 + 27)
    }

    func testDefaultInitialisationMatchesPyTorchsSpread() throws {
        var g = RandomGenerator(seed: 42)
        let conv = Conv2d(64, 128, kernelSize: 3, generator: &g)
        let lin = Linear(512, 50, generator: &g)
        func std(_ t: Tensor) -> Float {
            let v = t.scalars, m = v.reduce(0, +) / Float(v.count)
            return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count - 1)).squareRoot()
        }
        let w = conv.weight.value.scalars
        // PyTorch's bound is 1/√fan_in; its sample max comes within 0.1% of it for 73,728 draws.
        XCTAssertLessThanOrEqual(w.map(abs).max()!, try fixture("init", "conv_w_max").scalar * 1.001)
        XCTAssertEqual(std(conv.weight.value), try fixture("init", "conv_w_std").scalar, accuracy: 0.01 * std(conv.weight.value))
        XCTAssertEqual(std(lin.weight.value), try fixture("init", "lin_w_std").scalar, accuracy: 0.02 * std(lin.weight.value))
        XCTAssertLessThanOrEqual(conv.bias!.value.scalars.map(abs).max()!, 1 / Float(576).squareRoot())
        XCTAssertLessThanOrEqual(lin.bias!.value.scalars.map(abs).max()!, 1 / Float(512).squareRoot())
        let bn = BatchNorm2d(3)
        XCTAssertEqual(bn.weight.value.scalars, [1, 1, 1])
        XCTAssertEqual(bn.bias.value.scalars, [0, 0, 0])
    }
}

import _TestSupport
private func Fixtures_url(_ name: String) -> URL { Fixtures.url("TensorKit", name) }
