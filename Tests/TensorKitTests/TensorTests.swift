import XCTest
@testable import TensorKit

final class TensorTests: XCTestCase {
    func testCreationValidatesShapeAndCount() throws {
        XCTAssertThrowsError(try Tensor(shape: [2, 3], scalars: [1, 2])) { error in
            XCTAssertEqual(error as? TensorError, .countMismatch(shape: [2, 3], expected: 6, actual: 2))
        }
        XCTAssertThrowsError(try Tensor(shape: [-1], scalars: []))
        let t = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        XCTAssertEqual(t[1, 0], 3)
        XCTAssertEqual(Tensor(zeros: [0, 3]).count, 0)
    }

    func testValueSemanticsAndAlignment() {
        let a = Tensor([1, 2, 3])
        var b = a
        b[0] = 9
        XCTAssertEqual(a.scalars, [1, 2, 3])
        XCTAssertEqual(b.scalars, [9, 2, 3])
        let big = Tensor(zeros: [3, 1000])
        big.withUnsafeBufferPointer { XCTAssertEqual(Int(bitPattern: $0.baseAddress!) % 64, 0) }
    }

    func testReshapeSharesAndChecks() throws {
        let t = Tensor(zeros: [2, 3, 4])
        XCTAssertEqual(t.reshaped(to: [6, -1]).shape, [6, 4])
        XCTAssertThrowsError(try t.reshaped(toChecked: [5, 5])) { error in
            XCTAssertEqual(error as? TensorError, .reshapeMismatch(from: [2, 3, 4], to: [5, 5]))
        }
        XCTAssertEqual(t.flattened().shape, [2, 12])
    }

    func testRandomGeneratorIsReproducibleAndUniform() {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in b.next() })
        var g = RandomGenerator(seed: 1)
        let u = (0..<100_000).map { _ in g.nextUnitFloat() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Double(u.reduce(0, +)) / 1e5, 0.5, accuracy: 0.005)
        let n = (0..<100_000).map { _ in Double(g.nextNormal()) }
        let mean = n.reduce(0, +) / 1e5
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1e5, 1, accuracy: 0.02)
    }
}

final class TensorUtilityTests: XCTestCase {
    func testStackingAndArgmax() throws {
        let s = try Tensor(stacking: [Tensor([1, 5, 2]), Tensor([7, 0, 7])])
        XCTAssertEqual(s.shape, [2, 3])
        XCTAssertEqual(s.scalars, [1, 5, 2, 7, 0, 7])
        XCTAssertEqual(s.argmax(), [1, 0])
        XCTAssertThrowsError(try Tensor(stacking: []))
        XCTAssertThrowsError(try Tensor(stacking: [Tensor([1]), Tensor([1, 2])]))
    }

    /// Optimisers update `Parameter.value` in place: once backward has freed the graph, the
    /// parameter's buffer must be unshared so the update does not copy it.
    func testParameterBufferIsUnsharedAfterBackward() {
        var g = RandomGenerator(seed: 1)
        let conv = Conv2d(2, 3, kernelSize: 3, padding: 1, generator: &g)
        let bn = BatchNorm2d(3)
        let x = randomTensor([2, 2, 5, 5], seed: 2)
        do {
            let loss = bn.forward(conv(x), fusedReLU: true).mean()
            loss.backward()
        }
        XCTAssertTrue(conv.weight.value.isUniquelyOwned())
        XCTAssertTrue(bn.weight.value.isUniquelyOwned())
        XCTAssertNotNil(conv.weight.grad)
    }
}
