import XCTest
@testable import TensorKit

/// conv2d against PyTorch (`F.conv2d` in float64) and finite differences.
final class ConvolutionTests: XCTestCase {
    static let cases = ["conv_3x3_pad1", "conv_3x3_s2_odd_b1", "conv_1x1_grouped", "conv_1x1_s2", "conv_7x7_s2_stem",
                        "conv_1x1map", "conv_small_planes", "conv_1x1_b1_large", "conv_3x3_large_b2", "conv_3x3_s2_even"]

    func testAgreesWithPyTorch() throws {
        for c in Self.cases {
            let meta = try fixture(c, "meta").scalars.map(Int.init)
            let x = try fixture(c, "x").requiringGrad(), w = try fixture(c, "w").requiringGrad()
            let b = meta[2] == 1 ? try fixture(c, "b").requiringGrad() : nil
            let y = conv2d(x, weight: w, bias: b, stride: meta[0], padding: meta[1])
            assertClose(y, try fixture(c, "y"), "\(c) forward")
            y.backward(gradient: try fixture(c, "gy"))
            assertClose(x.grad, try fixture(c, "dx"), "\(c) dx")
            assertClose(w.grad, try fixture(c, "dw"), "\(c) dw")
            if let b { assertClose(b.grad, try fixture(c, "db"), "\(c) db") }
        }
    }

    func testGroupedAndUngroupedPathsAgreeWithPyTorch() throws {
        // The same fixture through different GEMM groupings (one image per GEMM, many per GEMM).
        let saved = ConvKernels.targetColumns
        defer { ConvKernels.targetColumns = saved }
        for columns in [1, 64, 100_000] {
            ConvKernels.targetColumns = columns
            for c in ["conv_small_planes", "conv_1x1_grouped", "conv_3x3_s2_even"] {
                let meta = try fixture(c, "meta").scalars.map(Int.init)
                let x = try fixture(c, "x").requiringGrad(), w = try fixture(c, "w").requiringGrad()
                let b = meta[2] == 1 ? try fixture(c, "b") : nil
                let y = conv2d(x, weight: w, bias: b, stride: meta[0], padding: meta[1])
                assertClose(y, try fixture(c, "y"), "\(c) forward, \(columns) columns")
                y.backward(gradient: try fixture(c, "gy"))
                assertClose(x.grad, try fixture(c, "dx"), "\(c) dx, \(columns) columns")
                assertClose(w.grad, try fixture(c, "dw"), "\(c) dw, \(columns) columns")
            }
        }
    }

    func testFiniteDifferences() {
        let x = randomTensor([2, 3, 5, 6], seed: 1), w = randomTensor([4, 3, 3, 3], seed: 2, scale: 0.3)
        let b = randomTensor([4], seed: 3)
        gradCheck([x, w, b], "conv 3x3 s2 p1") { t in conv2d(t[0], weight: t[1], bias: t[2], stride: 2, padding: 1) }
        let w1 = randomTensor([5, 3, 1, 1], seed: 4)
        gradCheck([x, w1], "conv 1x1") { t in conv2d(t[0], weight: t[1]) }
    }
}
