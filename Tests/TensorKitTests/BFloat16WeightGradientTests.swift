import XCTest
import _TensorKitGEMM
import _TensorKitWinograd

@testable import TensorKit

/// The bfloat16 weight gradient on 2×2 tiles with operands the transforms write in bfloat16
/// (`tkwino_*_bf16_rows`, `tkgemm_sgemm_bf16_nt_rows`): each piece against a reference written
/// here (the rounding of ``BFloat16Tests/bfloat16(_:)``, float64 sums, a float64 direct
/// convolution), and the whole against the route that rounds float32 planes while packing them.
final class BFloat16WeightGradientTests: XCTestCase {
    /// Random values with, where `specials`, NaN, ±0, subnormals, ±∞, a tie and huge values
    /// scattered among them.
    private func values(_ count: Int, seed: UInt64, specials: Bool = false) -> [Float] {
        var g = RandomGenerator(seed: seed)
        var v = (0..<count).map { _ in (g.nextUnitFloat() - 0.5) * 4 }
        guard specials else { return v }
        let odd: [Float] = [
            .nan, 0, -0.0, Float(bitPattern: 0x0000_1234), -Float(bitPattern: 0x0040_0000), .infinity, -.infinity,
            1 + 1 / 256, 3.3e38, -3.39e38,
        ]
        for (i, x) in odd.enumerated() where 7 * i < count { v[7 * i + 3 < count ? 7 * i + 3 : 7 * i] = x }
        return v
    }

    /// Both transforms' bfloat16 planes hold exactly ``BFloat16Tests/bfloat16(_:)`` of their
    /// float32 planes, on odd maps (1×1 to 5×1000), special values included; elements outside
    /// the written tiles stay untouched.
    func testTransformsRoundAsThePackingDoes() throws {
        guard KernelConfiguration.isAVX512Available else { throw XCTSkip("no AVX-512: the vector transforms do not run") }
        for (c, h, w) in [(1, 1, 1), (3, 3, 37), (2, 9, 33), (2, 5, 1000), (5, 2, 2)] {
            let x = values(c * h * w, seed: UInt64(h * w), specials: true)
            let tiles = ((h + 1) / 2) * ((w + 1) / 2), offset = 3, ld = tiles + 7
            let stride = ld * c + 5, count = 16 * stride
            var v32 = [Float](repeating: -7, count: count), v16 = [UInt16](repeating: 0xABCD, count: count)
            var scratch = [Float](repeating: 0, count: tkwino_input_scratch(h, w))
            var m32 = v32, m16 = v16
            tkwino_input_transform(x, 0, c, h, w, &v32, ld, offset, stride, &scratch)
            tkwino_input_transform_bf16_rows(x, 0, c, h, w, &v16, ld, offset, stride)
            tkwino_output_gradient_transform(x, 0, c, h, w, &m32, ld, offset, stride)
            tkwino_output_gradient_transform_bf16_rows(x, 0, c, h, w, &m16, ld, offset, stride)
            for (name, a, b) in [("input", v32, v16), ("output gradient", m32, m16)] {
                var wrong = 0
                for i in 0..<count {
                    let written = a[i] != -7
                    let expected = written ? BFloat16Tests.bfloat16(a[i]) : nil
                    let got = b[i] == 0xABCD && !written ? nil : Float(bitPattern: UInt32(b[i]) << 16)
                    switch (expected, got) {
                    case (nil, nil): break
                    case let (e?, g?) where e.bitPattern == g.bitPattern || (e.isNaN && g.isNaN): break
                    default: wrong += 1
                    }
                }
                XCTAssertEqual(wrong, 0, "\(name) transform, \(c)x\(h)x\(w): elements not the rounded float32 ones")
            }
        }
    }

    /// `C = A · Bᵀ + beta · C` from bfloat16 rows against float64 sums of the same values, on
    /// odd shapes: one and several K slices (k up to 1030), M past one 256-row block, N past one
    /// 576-column block, row strides longer than k, beta 0, 1 and 0.5.
    func testRowsProductAgainstFloat64() throws {
        guard KernelConfiguration.isBFloat16Available else { throw XCTSkip("this CPU has no AVX512_BF16") }
        var seed: UInt64 = 40
        for (m, n, k) in [(1, 1, 1), (7, 47, 33), (9, 97, 2), (16, 48, 1030), (300, 15, 97), (8, 700, 64), (49, 49, 513)] {
            for beta: Float in [0, 1, 0.5] {
                seed += 1
                let lda = k + 3, ldb = k + 5, ldc = n + 2
                let a = values(m * lda, seed: seed).map { UInt16(BFloat16Tests.bfloat16($0).bitPattern >> 16) }
                let b = values(n * ldb, seed: seed + 100).map { UInt16(BFloat16Tests.bfloat16($0).bitPattern >> 16) }
                let c0 = values(m * ldc, seed: seed + 200)
                var c = c0
                tkgemm_sgemm_bf16_nt_rows(m, n, k, a, lda, b, ldb, beta, &c, ldc)
                func value(_ h: UInt16) -> Double { Double(Float(bitPattern: UInt32(h) << 16)) }
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k { sum += value(a[i * lda + p]) * value(b[j * ldb + p]) }
                        let expected = sum + (beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j]))
                        worst = max(worst, abs(Double(c[i * ldc + j]) - expected))
                    }
                    XCTAssertEqual(c[i * ldc + n], c0[i * ldc + n], "\(m)x\(n)x\(k): wrote past the row")
                }
                XCTAssertLessThanOrEqual(worst, 4e-6 * Double(k).squareRoot() + 1e-6, "\(m)x\(n)x\(k) beta \(beta)")
            }
        }
    }

    /// The weight gradient at bfloat16 on odd shapes (batch 1, 3 and 5; maps 1×1 to 4×1000, one
    /// and several image groups) against a float64 direct convolution within bfloat16 rounding
    /// (and visibly rounded), and bit for bit the numbers of the route that rounds float32
    /// planes while packing them.
    func testWeightGradientOnOddShapes() throws {
        guard KernelConfiguration.isBFloat16Available else { throw XCTSkip("this CPU has no AVX512_BF16") }
        KernelConfiguration.withCurrent(changing: {
            $0.kernelSet = .avx512; $0.gemm = .tensorKit; $0.precision = .bfloat16; $0.minimumTensorKitGEMMWork = 0
        }) {
            for (n, c, o, h, w) in [(1, 8, 16, 1, 1), (3, 16, 24, 3, 37), (5, 24, 16, 4, 1000), (3, 48, 64, 9, 9), (1, 5, 7, 6, 13)] {
                let x = values(n * c * h * w, seed: UInt64(7 * h + w)), gy = values(n * o * h * w, seed: UInt64(h + 3 * w))
                let tiles = ((h + 1) / 2) * ((w + 1) / 2)
                XCTAssertTrue(Winograd.takesBFloat16Rows(m: o, n: c, k: tiles), "\(n)x\(c)x\(o)x\(h)x\(w): the bf16 rows route")
                var rows = [Float](repeating: .nan, count: o * c * 9), packed = rows
                Winograd.weightGradient(
                    x: x, gy: gy, batch: n, inChannels: c, outChannels: o, height: h, width: w, into: &rows)
                Winograd.weightGradient(
                    x: x, gy: gy, batch: n, inChannels: c, outChannels: o, height: h, width: w, bfloat16Rows: false,
                    into: &packed)
                XCTAssertEqual(rows, packed, "\(n)x\(c)x\(o)x\(h)x\(w): other numbers than rounding while packing")
                var reference = [Double](repeating: 0, count: o * c * 9)
                for b in 0..<n {
                    for oc in 0..<o {
                        for ic in 0..<c {
                            for i in 0..<3 {
                                for j in 0..<3 {
                                    var sum = 0.0
                                    for yy in 0..<h {
                                        let r = yy + i - 1
                                        guard r >= 0, r < h else { continue }
                                        for xx in 0..<w {
                                            let s = xx + j - 1
                                            guard s >= 0, s < w else { continue }
                                            sum += Double(gy[((b * o + oc) * h + yy) * w + xx]) * Double(x[((b * c + ic) * h + r) * w + s])
                                        }
                                    }
                                    reference[(oc * c + ic) * 9 + 3 * i + j] += sum
                                }
                            }
                        }
                    }
                }
                var d = 0.0, s = 0.0
                for i in reference.indices {
                    d += (Double(rows[i]) - reference[i]) * (Double(rows[i]) - reference[i])
                    s += reference[i] * reference[i]
                }
                let error = (d / max(s, 1e-30)).squareRoot()
                XCTAssertLessThanOrEqual(error, 1e-2, "\(n)x\(c)x\(o)x\(h)x\(w): dw against float64")
                if h * w > 1 { XCTAssertGreaterThan(error, 1e-5, "\(n)x\(c)x\(o)x\(h)x\(w): dw looks float32") }
            }
        }
    }
}
