import Foundation
import XCTest
@testable import TensorKit
import _TestSupport

/// Loads `Tests/Fixtures/TensorKit/<case>.<name>.npy` (written by
/// `Scripts/fixtures/make_tensorkit_fixtures.py` from PyTorch) as a tensor.
func fixture(_ testCase: String, _ name: String) throws -> Tensor {
    let a = try NPYArray(contentsOf: Fixtures.url("TensorKit", "\(testCase).\(name).npy"))
    return try Tensor(shape: a.shape, scalars: a.values)
}

func fixtureExists(_ testCase: String, _ name: String) -> Bool {
    FileManager.default.fileExists(atPath: Fixtures.url("TensorKit", "\(testCase).\(name).npy").path)
}

/// Asserts equal shapes and `max |a − e| <= rtol · max |e|` (see `assertAllClose`).
func assertClose(
    _ actual: Tensor?, _ expected: Tensor, rtol: Double = 1e-4, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let actual else { return XCTFail("\(what): no tensor", file: file, line: line) }
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    assertAllClose(actual.scalars, expected.scalars, rtol: rtol, what, file: file, line: line)
}

/// `conv2d` of fixture case `c` (its stride, padding and bias from `<c>.meta`) forward and
/// backward, against PyTorch's `y`, `dx`, `dw` and, with a bias, `db`; failures say `what`.
func assertConvolutionMatchesFixture(
    _ c: String, _ what: String, file: StaticString = #filePath, line: UInt = #line
) throws {
    let meta = try fixture(c, "meta").scalars.map(Int.init)
    let x = try fixture(c, "x").requiringGrad(), w = try fixture(c, "w").requiringGrad()
    let b = meta[2] == 1 ? try fixture(c, "b").requiringGrad() : nil
    let y = conv2d(x, weight: w, bias: b, stride: meta[0], padding: meta[1])
    assertClose(y, try fixture(c, "y"), "\(what) forward", file: file, line: line)
    y.backward(gradient: try fixture(c, "gy"))
    assertClose(x.grad, try fixture(c, "dx"), "\(what) dx", file: file, line: line)
    assertClose(w.grad, try fixture(c, "dw"), "\(what) dw", file: file, line: line)
    if let b { assertClose(b.grad, try fixture(c, "db"), "\(what) db", file: file, line: line) }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, shift: Float = 0) -> Tensor {
    var g = RandomGenerator(seed: seed)
    var t = Tensor(zeros: shape)
    t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = g.nextNormal() * scale + shift } }
    return t
}

/// Central finite-difference check of `f`'s gradients with respect to each input, on the
/// scalar `Σ f(x) · G` for a fixed random `G`, accumulated in Double.
func gradCheck(
    _ inputs: [Tensor], h: Float = 1e-2, tol: Double = 1e-2, samples: Int = 16,
    _ what: String, file: StaticString = #filePath, line: UInt = #line,
    _ f: ([Tensor]) -> Tensor
) {
    let leaves = inputs.map { $0.requiringGrad() }
    let out = f(leaves)
    let gOut = randomTensor(out.shape, seed: 99)
    out.backward(gradient: gOut)
    let gs = gOut.scalars
    func objective(_ xs: [Tensor]) -> Double {
        let y = withNoGrad { f(xs) }.scalars
        var s = 0.0
        for i in 0..<y.count { s += Double(y[i]) * Double(gs[i]) }
        return s
    }
    var rng = RandomGenerator(seed: 7)
    for k in inputs.indices {
        guard let analytic = leaves[k].grad else { XCTFail("\(what): input \(k) got no gradient", file: file, line: line); continue }
        let an = analytic.scalars
        let scale = max(an.map { Double(abs($0)) }.max() ?? 0, 1e-3)
        let n = inputs[k].count
        let picks = n <= samples ? Array(0..<n) : (0..<samples).map { _ in Int(rng.next() % UInt64(n)) }
        for i in picks {
            var plus = inputs, minus = inputs
            plus[k].withUnsafeMutableBufferPointer { $0[i] += h }
            minus[k].withUnsafeMutableBufferPointer { $0[i] -= h }
            let fd = (objective(plus) - objective(minus)) / (2 * Double(h))
            let err = abs(fd - Double(an[i])) / scale
            XCTAssertLessThanOrEqual(
                err, tol, "\(what): input \(k) element \(i): finite difference \(fd), autograd \(an[i])",
                file: file, line: line)
        }
    }
}

/// The vector kernel sets this CPU runs (AVX-512, AVX2; none elsewhere), each to be tested
/// beside ``KernelConfiguration/KernelSet/portable``.
let vectorKernelSets: [KernelConfiguration.KernelSet] =
    (KernelConfiguration.isAVX512Available ? [.avx512] : []) + (KernelConfiguration.isAVX2Available ? [.avx2] : [])
