import Foundation
import TensorKit
import XCTest
import _TestSupport
@testable import ResNetAudio

/// The full model at `KernelConfiguration.Precision.bfloat16` against PyTorch's float32 outputs
/// (`Scripts/fixtures/make_resnet_fixtures.py`; the same synthetic weights): logits and every
/// feature map within stated tolerances of bfloat16 rounding, on the folded inference path and on
/// the plain evaluation-mode layers, at several batch sizes and clip lengths.
final class BFloat16InferenceTests: XCTestCase {
    func fixture(_ name: String) throws -> SafeTensorsFile { try PyTorchFixtures.file(name) }

    func model(from file: SafeTensorsFile) throws -> AudioCNN {
        let model = try PyTorchFixtures.model(from: file)
        model.eval()
        return model
    }

    /// `‖a − e‖₂ / ‖e‖₂`.
    func relativeError(_ a: [Float], _ e: [Float]) -> Double {
        precondition(a.count == e.count)
        var d = 0.0, n = 0.0
        for i in e.indices {
            d += Double(a[i] - e[i]) * Double(a[i] - e[i])
            n += Double(e[i]) * Double(e[i])
        }
        return (d / max(n, 1e-30)).squareRoot()
    }

    func atBFloat16<R>(_ body: () throws -> R) rethrows -> R {
        try KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }, body)
    }

    /// Tolerances: bfloat16 keeps 8 significant bits (relative rounding 2⁻⁹ ≈ 0.2%) on both GEMM
    /// operands through 36 convolutions, layers 1-3 on Winograd F(4×4, 3×3) (about 2% error per
    /// layer output, which the per-channel means and the global pooling average out). Measured on
    /// these fixtures (2026-12-03, AVX512_BF16): the logits differ by 0.27-0.55% (relative L2) and
    /// the feature maps' per-channel means by at most 0.44%, so the bounds are about twice that.
    /// Float32 is within 1e-4 of PyTorch.
    static let logitTolerance = 0.01, mapTolerance = 0.01

    func testFullModelFeatureMapsAndLogitsAgainstPyTorchFloat32() throws {
        let file = try fixture("full_eval.safetensors")
        let model = try model(from: file)
        let input = try Tensor(shape: [1, 1, 128, 431], scalars: Synthetic.values("input", count: 128 * 431, scale: 3))
        let (logits, maps) = atBFloat16 { withNoGrad { model.forwardWithFeatureMaps(input) } }
        let expected = try file.tensor("logits").scalars
        let logitError = relativeError(logits.scalars, expected)
        XCTAssertLessThanOrEqual(logitError, Self.logitTolerance, "logits")
        XCTAssertGreaterThan(logitError, 1e-5, "logits look float32: was bfloat16 used?")
        let order = file.metadata["fmap_order"]!.split(separator: ",").map(String.init)
        for name in order {
            guard let map = maps[name] else { XCTFail("missing \(name)"); continue }
            let (c, hw) = (map.shape[1], map.shape[2] * map.shape[3])
            let v = map.scalars
            var channelMean = [Float](repeating: 0, count: c)
            for ch in 0..<c {
                var s = 0.0
                for j in 0..<hw { s += Double(v[ch * hw + j]) }
                channelMean[ch] = Float(s / Double(hw))
            }
            let error = relativeError(channelMean, try file.tensor("channel_mean.\(name)").scalars)
            XCTAssertLessThanOrEqual(error, Self.mapTolerance, "\(name): per-channel means")
        }
    }

    func testOtherLengthsAndBatchSizesAgainstPyTorchFloat32() throws {
        let file = try fixture("full_lengths.safetensors")
        let model = try model(from: file)
        for name in try XCTUnwrap(file.metadata["lengths"]).split(separator: ",") {
            let parts = name.split(separator: "x").compactMap { Int($0) }
            let (batch, frames) = (parts[0], parts[1])
            let input = try Tensor(
                shape: [batch, 1, 128, frames],
                scalars: Synthetic.values("lengths.\(name)", count: batch * 128 * frames, scale: 3))
            let expected = try file.tensor("logits.\(name)").scalars
            for folded in [true, false] {
                model.usesFoldedInference = folded
                let logits = atBFloat16 { withNoGrad { model(input) } }
                let error = relativeError(logits.scalars, expected)
                XCTAssertLessThanOrEqual(error, Self.logitTolerance, "\(name) logits, folded \(folded)")
                XCTAssertGreaterThan(error, 1e-5, "\(name): looks float32")
            }
        }
        model.usesFoldedInference = true
    }
}
