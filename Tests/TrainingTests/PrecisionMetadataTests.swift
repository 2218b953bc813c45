import Foundation
import ResNetAudio
import TensorKit
import Training
import XCTest

/// A run records the operand precision it trained with (TensorKit's current one, as
/// `audiocnn train --precision` sets it) in the training state and the checkpoints' metadata,
/// and both record the kernel settings too (a resume with others warns).
final class PrecisionMetadataTests: XCTestCase {
    private func train(_ precision: KernelConfiguration.Precision) throws -> (state: [String: String], checkpoint: CheckpointMetadata) {
        let out = TinyData.freshDirectory("precision-\(precision)")
        let data = try TinyData.data()
        let trainer = try Trainer(
            configuration: TinyData.configuration(epochs: 1), model: .small(classes: 6), data: data, outputDirectory: out)
        let summary = try KernelConfiguration.withCurrent(changing: { $0.precision = precision }) { try trainer.run() }
        XCTAssertEqual(summary.history.count, 1)
        XCTAssertTrue(summary.history[0].trainLoss.isFinite, "\(precision): training loss \(summary.history[0].trainLoss)")
        let state = try SafeTensorsFile(contentsOf: out.appendingPathComponent("last.train-state.safetensors")).metadata
        return (state, try Checkpoint.load(from: summary.lastCheckpoint).metadata)
    }

    func testRunRecordsItsPrecision() throws {
        for precision in KernelConfiguration.Precision.allCases {
            let (state, checkpoint) = try train(precision)
            XCTAssertEqual(state["precision"], precision.rawValue)
            XCTAssertEqual(checkpoint.extra["precision"], precision.rawValue)
            XCTAssertEqual(state["processes"], "1", "the other entries stay")
            XCTAssertEqual(state["kernels"], checkpoint.extra["kernels"], "the state records the kernel settings too")
            // The kernels' settings, among them training's Winograd tiles.
            let kernels = try XCTUnwrap(checkpoint.extra["kernels"], "\(precision): kernel settings recorded")
            XCTAssertTrue(kernels.contains("precision=\(precision)"), kernels)
            XCTAssertTrue(kernels.contains("winograd_4x4_forward=auto"), kernels)
        }
    }

    /// A run is resumed at the precision it started with, as with every other option: another
    /// one is refused with a message that names both.
    func testResumeAtAnotherPrecisionIsRefused() throws {
        let out = TinyData.freshDirectory("precision-resume")
        let data = try TinyData.data()
        func trainer() throws -> Trainer {
            try Trainer(configuration: TinyData.configuration(epochs: 2), model: .small(classes: 6), data: data, outputDirectory: out)
        }
        _ = try KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) { try trainer().run(stopAfterEpoch: 1) }
        let resumed = try trainer()
        XCTAssertThrowsError(
            try KernelConfiguration.withCurrent(changing: { $0.precision = .float32 }) { try resumed.run(resume: true) }
        ) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("precision bf16, not fp32"), message)
            XCTAssertTrue(message.contains("--precision bf16"), message)
        }
        let summary = try KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) { try trainer().run(resume: true) }
        XCTAssertEqual(summary.history.count, 2)
        XCTAssertTrue(summary.finished)
    }

    /// A resume with other kernel settings (here training's forward Winograd tiles and Winograd
    /// itself) goes on, with one warning that names the settings of both sessions; with the
    /// same settings there is none.
    func testResumeWithOtherKernelSettingsWarns() throws {
        let out = TinyData.freshDirectory("kernels-resume")
        let data = try TinyData.data()
        var warnings: [String] = []
        func trainer() throws -> Trainer {
            let t = try Trainer(
                configuration: TinyData.configuration(epochs: 3), model: .small(classes: 6), data: data, outputDirectory: out)
            t.onWarning = { warnings.append($0) }
            return t
        }
        let first = try KernelConfiguration.withCurrent(changing: { $0.winogradLargeTilesForward = true }) {
            try trainer().run(stopAfterEpoch: 1)
        }
        XCTAssertEqual(first.history.count, 1)
        XCTAssertEqual(warnings, [], "a new run has nothing to warn about")
        _ = try KernelConfiguration.withCurrent(changing: { $0.winogradLargeTilesForward = true }) {
            try trainer().run(resume: true, stopAfterEpoch: 2)
        }
        XCTAssertEqual(warnings, [], "the same settings: no warning")
        let summary = try KernelConfiguration.withCurrent(changing: {
            $0.winogradLargeTilesForward = false; $0.winograd = false
        }) {
            try trainer().run(resume: true)
        }
        XCTAssertEqual(summary.history.count, 3, "the run goes on")
        XCTAssertTrue(summary.finished)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        let message = warnings.first ?? ""
        XCTAssertTrue(message.contains("(winograd on → off, winograd_4x4_forward on → off)"), message)
        XCTAssertTrue(message.contains(out.path), message)
    }
}
