import Foundation
import TensorKit
import XCTest
import _TestSupport
@testable import ResNetAudio

/// The folded inference path (batch norms folded into the convolutions, residual and ReLU in
/// the convolution's output pass) against PyTorch's eval-mode outputs
/// (`Scripts/fixtures/make_resnet_fixtures.py`), and its rebuilding when weights or statistics
/// change.
final class FoldedInferenceTests: XCTestCase {
    func fixture(_ name: String) throws -> SafeTensorsFile { try PyTorchFixtures.file(name) }

    func model(from file: SafeTensorsFile) throws -> AudioCNN { try PyTorchFixtures.model(from: file) }

    func assertMatchesPyTorch(
        _ model: AudioCNN, _ file: SafeTensorsFile, _ what: String,
        file source: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (logits, maps) = withNoGrad { model.forwardWithFeatureMaps(try! file.tensor("input")) }
        assertAllClose(logits.scalars, try file.tensor("logits").scalars, "\(what): logits", file: source, line: line)
        let order = file.metadata["fmap_order"]!.split(separator: ",").map(String.init)
        XCTAssertEqual(maps.names, order, "\(what): feature-map names", file: source, line: line)
        for name in order {
            let expected = try file.tensor("fmap.\(name)")
            XCTAssertEqual(maps[name]?.shape, expected.shape, "\(what): \(name)", file: source, line: line)
            assertAllClose(maps[name]?.scalars ?? [], expected.scalars, "\(what): \(name)", file: source, line: line)
        }
        let plain = withNoGrad { model(try! file.tensor("input")) }
        assertAllClose(plain.scalars, logits.scalars, rtol: 1e-6, "\(what): logits without capture", file: source, line: line)
    }

    func testFoldedPathMatchesPyTorchWithEveryFeatureMap() throws {
        let file = try fixture("small_eval.safetensors")
        let model = try model(from: file)
        model.eval()
        XCTAssertNotNil(withNoGrad { model.currentInferencePlan() }, "eval + no grad folds")
        try assertMatchesPyTorch(model, file, "folded")
        model.usesFoldedInference = false
        XCTAssertNil(withNoGrad { model.currentInferencePlan() })
        try assertMatchesPyTorch(model, file, "unfolded")
    }

    func testFoldingOnlyWithoutGradientsInEvaluationMode() throws {
        let model = try AudioCNN(config: .small(classes: 3))
        model.eval()
        XCTAssertNil(model.currentInferencePlan(), "gradient recording on: the differentiable path")
        model.train()
        XCTAssertNil(withNoGrad { model.currentInferencePlan() }, "training mode")
        model.eval()
        model.stages[0].blocks[0].bn1.train()
        XCTAssertNil(withNoGrad { model.currentInferencePlan() }, "one batch norm still in training mode")
        model.eval()
        let plan = withNoGrad { model.currentInferencePlan() }
        XCTAssertNotNil(plan)
        XCTAssertTrue(plan === withNoGrad { model.currentInferencePlan() }, "reused while nothing changed")
    }

    /// A plan folded from other weights, then the fixture's weights loaded: the outputs are
    /// PyTorch's, so the load invalidated the plan.
    func testCheckpointLoadRebuildsTheFoldedWeights() throws {
        let file = try fixture("small_eval.safetensors")
        let config = try JSONDecoder().decode(AudioCNNConfig.self, from: Data(file.metadata["config"]!.utf8))
        let model = try AudioCNN(config: config, seed: 5)
        model.eval()
        let stale = withNoGrad { model(try! file.tensor("input")) }
        try model.loadStateDict(Synthetic.state(for: model))
        try assertMatchesPyTorch(model, file, "after load")
        let logits = withNoGrad { model(try! file.tensor("input")) }
        XCTAssertNotEqual(stale.scalars, logits.scalars, "the stale plan gave other logits")
    }

    /// Running statistics changed after folding (here: the fixture's, put back into a model
    /// first evaluated with zero means and unit variances) are picked up.
    func testChangedBatchNormStatisticsRebuildTheFoldedWeights() throws {
        let file = try fixture("small_eval.safetensors")
        let model = try model(from: file)
        model.eval()
        let saved = model.stateDict()
        for (name, buffer) in model.namedBuffers() where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
            buffer.value = Tensor(repeating: name.hasSuffix("running_var") ? 1 : 0, shape: buffer.value.shape)
        }
        _ = withNoGrad { model(try! file.tensor("input")) }
        for (name, buffer) in model.namedBuffers() where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
            buffer.value = saved[name]!
        }
        try assertMatchesPyTorch(model, file, "statistics restored")
        // γ of one batch norm changed in place: the output follows (checked against the
        // unfolded path, itself checked against PyTorch above).
        let bn = model.stages[1].blocks[0].bn2
        bn.weight.value.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= -0.5 } }
        let folded = withNoGrad { model(try! file.tensor("input")) }
        model.usesFoldedInference = false
        let unfolded = withNoGrad { model(try! file.tensor("input")) }
        assertAllClose(folded.scalars, unfolded.scalars, "after an in-place change of γ")
        XCTAssertGreaterThan(
            zip(folded.scalars, try file.tensor("logits").scalars).map { abs($0 - $1) }.max()!, 1e-3,
            "the change matters")
    }

    /// Training steps (optimiser writes weights in place, training-mode forward passes update
    /// the running statistics) between evaluations: the folded outputs follow the unfolded ones.
    func testTrainingBetweenEvaluationsRebuildsTheFoldedWeights() throws {
        let model = try AudioCNN(config: .small(classes: 4), seed: 2)
        var g = RandomGenerator(seed: 9)
        var x = Tensor(zeros: [3, 1, 16, 40])
        x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = g.nextNormal() } }
        let optimizer = try AdamW(model.parameters(), learningRate: 1e-2)
        for step in 0..<3 {
            model.train()
            optimizer.zeroGrad()
            crossEntropy(model(x), labels: [0, 1, 2]).backward()
            try optimizer.step()
            model.eval()
            let folded = withNoGrad { model(x) }
            XCTAssertNotNil(withNoGrad { model.currentInferencePlan() })
            model.usesFoldedInference = false
            let unfolded = withNoGrad { model(x) }
            model.usesFoldedInference = true
            assertAllClose(folded.scalars, unfolded.scalars, "step \(step)")
        }
        model.train()
        _ = model(x)
        XCTAssertFalse(model.inferencePlanIsCached, "a training pass drops the folded weights")
    }
}
