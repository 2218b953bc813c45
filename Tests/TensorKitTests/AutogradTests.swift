import XCTest
@testable import TensorKit

/// The tape itself: accumulation, no-grad scopes, freeing the graph, flat memory.
final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossUsesAndCalls() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        // y = x·x + 3x uses x three times: dy/dx = 2x + 3.
        let y = (x * x + x * 3).sum()
        y.backward()
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [7, 9, 11], "a second backward adds to the gradient")
    }

    func testParameterGradientsGoToParameterAndZeroGrad() {
        let p = Parameter(Tensor([1, -2]))
        (p.tensor * p.tensor).sum().backward()
        XCTAssertEqual(p.grad?.scalars, [2, -4])
        p.zeroGrad()
        XCTAssertNil(p.grad)
        p.requiresGrad = false
        XCTAssertFalse(p.tensor.requiresGrad)
    }

    func testNoGradScopeRecordsNothing() {
        let x = Tensor([1, 2]).requiringGrad()
        let y = withNoGrad { (x * x).sum() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue((x * x).sum().requiresGrad)
    }

    func testGraphIsFreedAfterBackward() {
        weak var inner: GradNode?
        let x = Tensor([1, 2, 3]).requiringGrad()
        let loss: Tensor = {
            let h = x.relu()
            inner = h.node
            return (h * h).sum()
        }()
        XCTAssertNotNil(inner, "the graph is alive before backward")
        loss.backward()
        XCTAssertNil(inner, "backward releases the intermediate nodes")
        XCTAssertEqual(x.grad?.scalars, [2, 4, 6])
    }

    func testCopyOnWriteKeepsSavedTensorsIntact() {
        var x = Tensor([1, 2, 3])
        let p = x.requiringGrad()
        let y = (p * p).sum()
        x.withUnsafeMutableBufferPointer { $0[0] = 100 }  // does not touch p's buffer
        y.backward()
        XCTAssertEqual(p.grad?.scalars, [2, 4, 6])
        XCTAssertEqual(p.scalars, [1, 2, 3])
    }

    func testThousandTrainingStepsKeepMemoryFlat() {
        var g = RandomGenerator(seed: 3)
        let net = Sequential(
            Conv2d(2, 8, kernelSize: 3, padding: 1, generator: &g), BatchNorm2d(8), ReLU(),
            AdaptiveAvgPool2d(), Flatten(), Linear(8, 4, generator: &g))
        let x = randomTensor([4, 2, 9, 9], seed: 4)
        func step() {
            let loss = crossEntropy(net(x), labels: [0, 1, 2, 3], labelSmoothing: 0.1)
            loss.backward()
            withNoGrad {
                for p in net.parameters() {
                    guard let grad = p.grad else { continue }
                    p.value = p.value - grad * 0.01
                    p.zeroGrad()
                }
            }
        }
        for _ in 0..<100 { step() }
        let before = residentBytes()
        for _ in 0..<1000 { step() }
        let after = residentBytes()
        XCTAssertLessThan(after - before, 4 << 20, "resident memory grew by \(after - before) bytes over 1,000 steps")
    }

    private func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = s.split(separator: " ")
        return (Int(fields[1]) ?? 0) * 4096
    }
}

final class OpProfilerTests: XCTestCase {
    func testChargesEveryRecordedOperation() {
        var g = RandomGenerator(seed: 9)
        let net = Sequential(
            Conv2d(2, 4, kernelSize: 3, padding: 1, generator: &g), BatchNorm2d(4), ReLU(),
            AdaptiveAvgPool2d(), Flatten(), Linear(4, 3, generator: &g))
        let x = randomTensor([2, 2, 6, 6], seed: 1)
        OpProfiler.start()
        crossEntropy(net(x), labels: [0, 2]).backward()
        let entries = OpProfiler.stop()
        let ops = Set(entries.map(\.op))
        // Convolutions by geometry (kernel/stride, channels, output map), so a profile shows which layer.
        XCTAssertEqual(
            ops, ["conv2d 3x3/1 2->4 6x6", "batchNorm2d+relu", "adaptiveAvgPool2d", "reshape", "linear", "crossEntropy"])
        XCTAssertTrue(entries.allSatisfy { $0.calls == 1 && $0.forwardMilliseconds >= 0 && $0.backwardMilliseconds > 0 })
        _ = net(x)  // not profiling any more
        XCTAssertEqual(OpProfiler.stop().map(\.calls).reduce(0, +), 6)
    }
}

/// A graph can be back-propagated once; its saved tensors are freed as the pass goes.
final class FreedGraphTests: XCTestCase {
    func testSecondBackwardThroughTheSameGraphIsAnError() throws {
        let x = Tensor([1, -2, 3]).requiringGrad()
        let loss = (x.relu() * x).sum()
        try loss.runBackward(gradient: Tensor(1))
        XCTAssertEqual(x.grad?.scalars, [2, 0, 6])
        XCTAssertThrowsError(try loss.runBackward(gradient: Tensor(1))) { error in
            XCTAssertEqual(error as? AutogradError, .graphAlreadyFreed(op: "sum"))
            XCTAssertTrue("\(error)".contains("run the forward pass again"), "\(error)")
        }
        XCTAssertEqual(x.grad?.scalars, [2, 0, 6], "nothing accumulated by the refused pass")
    }

    /// Two losses sharing an intermediate result: the second backward would reach operations
    /// the first one freed, and would silently drop their gradient; it is refused instead.
    func testBackwardThroughAPartlyFreedGraphIsAnError() {
        let x = Tensor([1, 2]).requiringGrad()
        let h = (x * x).relu()
        let a = h.sum(), b = (h * 3).sum()
        a.backward()
        XCTAssertThrowsError(try b.runBackward(gradient: Tensor(1))) { error in
            XCTAssertEqual(error as? AutogradError, .graphAlreadyFreed(op: "relu"))
        }
        XCTAssertEqual(x.grad?.scalars, [2, 4])
    }

    /// Saved tensors (here a 64k-element activation) are released as soon as their operation's
    /// backward step has run, before the steps of the operations that fed it.
    func testSavedTensorsAreReleasedDuringTheBackwardPass() {
        let x = randomTensor([1, 1, 64, 64], seed: 1).requiringGrad()
        weak var saved: TensorStorage?
        var aliveAtFirstStep: Bool?, aliveAtLastStep: Bool?
        let loss: Tensor = {
            // `observer` runs its backward step last (it feeds relu), `head` first.
            let fed = Tensor.record("observer", x * 1, inputs: [x]) { g in
                aliveAtLastStep = saved != nil; return [g]
            }
            let h = fed.relu()  // saves its output
            saved = h.storage
            let total = h.sum()
            return Tensor.record("head", total, inputs: [total]) { g in
                aliveAtFirstStep = saved != nil; return [g]
            }
        }()
        loss.backward()
        XCTAssertEqual(aliveAtFirstStep, true, "relu's saved output is alive until its own step")
        XCTAssertEqual(aliveAtLastStep, false, "and freed before the steps after it")
        XCTAssertEqual(x.grad?.scalars.reduce(0, +), x.scalars.filter { $0 > 0 }.count.asFloat)
    }
}

private extension Int {
    var asFloat: Float { Float(self) }
}
