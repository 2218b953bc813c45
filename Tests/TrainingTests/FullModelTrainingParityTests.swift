import Foundation
import ResNetAudio
import TensorKit
import XCTest
import _TestSupport

/// The full ResNet-34-style model in training mode against PyTorch
/// (`Scripts/fixtures/make_training_fixtures.py`): the same hash-generated weights and
/// log-Mel-sized inputs, one step of AdamW at the recipe's peak rate with label-smoothed
/// cross-entropy. Checks the loss, every parameter's gradient norm, the weights and BN running
/// statistics after the step, and the eval-mode logits that use those statistics.
///
/// ResNetAudio's one-step check covers the small model on a 40x67 input; this one reaches the
/// kernel paths (Winograd, im2col, threading) that only the full model on a 128x431 input takes.
final class FullModelTrainingParityTests: XCTestCase {
    func testOneTrainingStepOfTheFullModelMatchesPyTorch() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.url("Training", "full_train_steps.safetensors"))
        let meta = file.metadata
        XCTAssertEqual(meta["steps"], "1")
        let (model, input, loss) = try Self.firstStep(meta)
        let named = model.namedParameters()
        let optimizer = try AdamW(model.parameters(), learningRate: 2e-3, weightDecay: 0.01)
        assertAllClose([loss.scalar], try file.tensor("loss").scalars, rtol: 1e-5, "loss")
        // Gradient norms: PyTorch float32 is itself up to 2e-3 from float64 on the BN weights
        // (sums over 14k values per channel); a wrong gradient is off by far more than 1e-2.
        let norms = try file.tensor("grad_norm").scalars
        XCTAssertEqual(norms.count, named.count)
        for (index, (name, parameter)) in named.enumerated() {
            let norm = Self.norm(try XCTUnwrap(parameter.grad, name).scalars)
            XCTAssertEqual(norm, Double(norms[index]), accuracy: 1e-2 * Double(norms[index]), "gradient norm of \(name)")
        }
        try optimizer.step()

        // A first Adam step moves every weight by about lr·sign(gradient), so weights whose
        // gradient is rounding noise may move the other way (by 2·lr = 4e-3): norms agree to a few
        // 1e-3 (measured worst 1.3e-3, a BN bias of 64 values), single values more loosely.
        for (name, parameter) in named {
            let values = parameter.value.scalars
            XCTAssertEqual(
                Self.norm(values), Double(try file.tensor("norm.\(name)").scalar),
                accuracy: 5e-3 * Self.norm(values), "norm of \(name) after the step")
            assertAllClose(
                Array(values.prefix(8)), try file.tensor("head.\(name)").scalars, rtol: 5e-2,
                "first values of \(name) after the step")
        }
        for (name, buffer) in model.namedBuffers() where !name.hasSuffix("num_batches_tracked") {
            assertAllClose(
                buffer.value.scalars, try file.tensor("buffer.\(name)").scalars, rtol: 1e-4,
                "running statistic \(name)")
        }
        model.eval()
        let logits = withNoGrad { model(input) }
        assertAllClose(logits.scalars, try file.tensor("eval_logits").scalars, rtol: 5e-2, "eval-mode logits after the step")
    }

    /// Rounding error of the gradients against PyTorch in float64
    /// (`make_training_fixtures.py --float64-gradients`). On these random weights the backward
    /// pass amplifies rounding some 10^5-fold: PyTorch's own float32 gradients are ~1e-2
    /// (relative L2) from the float64 ones in most layers. The statistic is noisy: scaling
    /// PyTorch's input by 1 + 1e-7 moves its own error by 0.7-0.9x (geometric mean over the
    /// parameters) and up to 2x on one parameter, so this test asks for "as accurate as
    /// PyTorch float32" within that noise, not for a precise ratio.
    ///
    /// Measured, ours / PyTorch float32 error, geometric mean over the 110 parameters: with the
    /// forward pass on F(2×2) (``testFirstStepGradientsWithTheForwardPassOnSmallTiles()``)
    /// 1.56x on 2026-12-01, 0.32x with the AVX2 set on Zen 3 on 2026-12-04, and 0.023x on Zen 2
    /// on 2026-12-05 once batch norm's training statistics came from the moments the output
    /// transforms add up in double (most parameters 1e-4 from float64 where PyTorch float32 is
    /// 1e-2: the rounding of the batch statistics was what the backward pass amplified most).
    /// With the forward pass on F(4×4, 3×3) too (the default since it moved to the points 0,
    /// ±3/4, ±3/2): 0.80x on Zen 2 with the AVX2 set; on Lavin & Gray's points it was 1.78x, and
    /// the one-step test above then failed on a weight whose gradient is 1.4% of its tensor's
    /// RMS. The mean must stay within 2x, and every parameter's error below 10% (PyTorch's worst
    /// is 1.2e-2); a wrong gradient is off by O(1).
    func testFirstStepGradientsAreAsAccurateAsPyTorchFloat32() throws {
        try checkFirstStepGradients(meanRatioBound: 2)
    }

    /// The same with the forward pass on Winograd F(2×2, 3×3)
    /// (``KernelConfiguration/winogradLargeTilesForward`` `false`): slower, and the most
    /// precise setting. Measured 2026-12-05 on Zen 2 with the AVX2 set: 0.023x PyTorch
    /// float32's error.
    func testFirstStepGradientsWithTheForwardPassOnSmallTiles() throws {
        try KernelConfiguration.withCurrent(changing: { $0.winogradLargeTilesForward = false }) {
            try checkFirstStepGradients(meanRatioBound: 2)
        }
    }

    private func checkFirstStepGradients(meanRatioBound: Double) throws {
        let exact = try SafeTensorsFile(contentsOf: Fixtures.url("Training", "full_step_gradients_float64.safetensors"))
        let (model, _, _) = try Self.firstStep(
            try SafeTensorsFile(contentsOf: Fixtures.url("Training", "full_train_steps.safetensors")).metadata)
        let named = model.namedParameters()
        XCTAssertEqual(named.map(\.name).joined(separator: ","), exact.metadata["parameter_order"])
        let head = try XCTUnwrap(Int(XCTUnwrap(exact.metadata["head"])))
        var logRatios = 0.0
        var report: [String] = []
        for (name, parameter) in named {
            let reference = try exact.tensor("grad64.\(name)").scalars
            // All of a small gradient; of a large one the fixture's `head` values at a stride of
            // count / head, which reach every output channel, each moved on by i % 9, which
            // reaches every tap of a 3×3 filter (the stride alone is a multiple of 9 there).
            let all = try XCTUnwrap(parameter.grad, name).scalars
            let ours = all.count <= 8192 ? all : (0..<head).map { all[$0 * (all.count / head) + $0 % 9] }
            XCTAssertEqual(ours.count, reference.count, name)
            let torchError = Double(try exact.tensor("torch32_error.\(name)").scalar)
            var diff = 0.0, size = 0.0
            for (a, b) in zip(ours, reference) {
                diff += (Double(a) - Double(b)) * (Double(a) - Double(b))
                size += Double(b) * Double(b)
            }
            let error = (diff / size).squareRoot()
            // Below 1e-5 both are float32 resolution, not an amplified error.
            let ratio = max(error, 1e-5) / max(torchError, 1e-5)
            logRatios += log(ratio)
            report.append("\(name): \(error) vs PyTorch float32 \(torchError) (\(ratio)x)")
            // One parameter's error is a heavy-tailed quantity (a ReLU or max-pool decision that
            // rounding flips moves a whole gradient): it swings 10x between kernel choices, so
            // each parameter is only held to 10%, far from PyTorch's worst (1.2e-2) and from the
            // O(1) error of a wrong gradient. The mean ratio below is the precision measure.
            XCTAssertLessThan(error, 0.1, "relative error of the gradient of \(name): \(error), PyTorch float32 \(torchError)")
        }
        let meanRatio = exp(logRatios / Double(named.count))
        print(
            "Gradient error against float64, ours / PyTorch float32, geometric mean \(meanRatio)x:\n  "
                + report.joined(separator: "\n  "))
        XCTAssertLessThanOrEqual(meanRatio, meanRatioBound, "gradient rounding error relative to PyTorch float32's")
    }

    /// The model with the fixture's weights in training mode, after the first step's forward
    /// and backward (gradients accumulated, no optimiser step yet).
    static func firstStep(_ meta: [String: String]) throws -> (model: AudioCNN, input: Tensor, loss: Tensor) {
        let config = try JSONDecoder().decode(AudioCNNConfig.self, from: Data(XCTUnwrap(meta["config"]).utf8))
        let batch = try XCTUnwrap(Int(XCTUnwrap(meta["batch"])))
        let model = try AudioCNN(config: config, seed: 1)
        try model.loadStateDict(Synthetic.state(for: model))
        XCTAssertEqual(model.namedParameters().map(\.name).joined(separator: ","), meta["parameter_order"])
        model.train()
        let input = try Tensor(
            shape: [batch, 1, 128, 431],
            scalars: Synthetic.values("train_input.0", count: batch * 128 * 431, scale: 30).map { $0 - 40 })
        let labels = (0..<batch).map { (7 * $0) % 10 }
        let loss = crossEntropy(model(input), labels: labels, labelSmoothing: 0.1)
        loss.backward()
        return (model, input, loss)
    }

    static func norm(_ values: [Float]) -> Double {
        values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }
}
