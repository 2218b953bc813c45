import AudioDSP
import ESC50
import Foundation
import ResNetAudio
import TensorKit
import Training
import XCTest

final class TrainerTests: XCTestCase {
    /// On six well-separated synthetic classes the full recipe must learn: the training loss
    /// falls and validation accuracy ends far above chance (1/6).
    func testLossFallsAndAccuracyRisesAboveChance() throws {
        let data = try TinyData.data()
        XCTAssertEqual(data.classes, SyntheticDataset.classes)
        XCTAssertEqual(data.train.count, 48)
        XCTAssertEqual(data.validation.count, 24)
        let out = TinyData.freshDirectory("learn")
        let trainer = try Trainer(
            configuration: TinyData.configuration(epochs: 10), model: .small(classes: 6),
            data: data, outputDirectory: out.appendingPathComponent("ckpt"),
            logDirectory: out.appendingPathComponent("runs"))
        let summary = try trainer.run()
        let losses = summary.history.map(\.trainLoss)
        XCTAssertEqual(summary.history.count, 10)
        XCTAssertTrue(summary.finished)
        XCTAssertLessThan(losses.suffix(3).reduce(0, +) / 3, losses[0] * 0.8, "training loss did not fall: \(losses)")
        XCTAssertGreaterThanOrEqual(summary.bestAccuracy, 0.6, "accuracy \(summary.history.map(\.validationAccuracy))")
        XCTAssertGreaterThanOrEqual(summary.history.last!.validationAccuracy, 0.5)

        // best / last / state written; the best checkpoint re-evaluated independently gives the
        // accuracy the trainer recorded for it, and carries the classes and the Mel front-end.
        let fm = FileManager.default
        for name in ["best.safetensors", "last.safetensors", "last.train-state.safetensors"] {
            XCTAssertTrue(fm.fileExists(atPath: out.appendingPathComponent("ckpt/\(name)").path), name)
        }
        let (model, metadata) = try Checkpoint.load(from: summary.bestCheckpoint)
        XCTAssertEqual(metadata.classes, data.classes)
        XCTAssertEqual(metadata.epoch, summary.bestEpoch)
        XCTAssertEqual(metadata.validationAccuracy ?? -1, summary.bestAccuracy, accuracy: 1e-12)
        let mel = try JSONDecoder().decode(MelConfig.self, from: Data(XCTUnwrap(metadata.melConfigJSON).utf8))
        XCTAssertEqual(mel, TinyData.mel)
        let loader = try DataLoader(items: data.validation, source: data.features, configuration: .init(batchSize: 5))
        let result = try Evaluator.evaluate(model, on: loader, classes: metadata.classes)
        XCTAssertEqual(result.accuracy, summary.bestAccuracy, accuracy: 1e-12)
        XCTAssertEqual(result.confusion.total, 24)

        // TensorBoard wrote an event file with the run.
        let runs = try fm.contentsOfDirectory(atPath: out.appendingPathComponent("runs").path)
        XCTAssertTrue(runs.contains { $0.hasPrefix("events.out.tfevents.") }, "\(runs)")
    }

    /// Stopping after an epoch and resuming gives bit-identical weights, optimiser state and
    /// history to an uninterrupted run with the same seed: every random draw derives from
    /// (seed, epoch, item) and the state file restores AdamW's moments and the schedule exactly.
    func testResumeMatchesUninterruptedRunBitForBit() throws {
        let data = try TinyData.data()
        let configuration = TinyData.configuration(epochs: 3)
        let straight = TinyData.freshDirectory("straight")
        let full = try Trainer(configuration: configuration, model: .small(classes: 6), data: data, outputDirectory: straight)
            .run()

        let split = TinyData.freshDirectory("split")
        let first = try Trainer(configuration: configuration, model: .small(classes: 6), data: data, outputDirectory: split)
            .run(stopAfterEpoch: 1)
        XCTAssertFalse(first.finished)
        XCTAssertEqual(first.history.count, 1)
        let resumed = try Trainer(configuration: configuration, model: .small(classes: 6), data: data, outputDirectory: split)
            .run(resume: true)
        XCTAssertTrue(resumed.finished)
        XCTAssertEqual(resumed.history.map(\.trainLoss), full.history.map(\.trainLoss))
        XCTAssertEqual(resumed.history.map(\.validationAccuracy), full.history.map(\.validationAccuracy))

        let a = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("last.safetensors"))
        let b = try SafeTensorsFile(contentsOf: split.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(Set(a.names), Set(b.names))
        for name in a.names where a[name]!.dtype == .f32 {
            XCTAssertEqual(try a.floats(name), try b.floats(name), "weights \(name) differ after resume")
        }
        let sa = try SafeTensorsFile(contentsOf: straight.appendingPathComponent("last.train-state.safetensors"))
        let sb = try SafeTensorsFile(contentsOf: split.appendingPathComponent("last.train-state.safetensors"))
        for name in sa.names where sa[name]!.dtype == .f32 {
            XCTAssertEqual(try sa.floats(name), try sb.floats(name), "optimiser state \(name) differs after resume")
        }
        XCTAssertEqual(sa.metadata["scheduler.scalar.last_epoch"], sb.metadata["scheduler.scalar.last_epoch"])
    }

    /// A run is never silently overwritten, and resuming with other options is refused by name.
    func testResumeAndOverwriteErrorsNameTheProblem() throws {
        let data = try TinyData.data()
        let out = TinyData.freshDirectory("errors")
        XCTAssertThrowsError(
            try Trainer(
                configuration: TinyData.configuration(epochs: 2), model: .small(classes: 6),
                data: data, outputDirectory: out
            ).run(resume: true)
        ) { error in
            XCTAssertTrue("\(error)".contains("holds no last.train-state.safetensors"), "\(error)")
        }
        try Trainer(
            configuration: TinyData.configuration(epochs: 2), model: .small(classes: 6), data: data,
            outputDirectory: out
        ).run(stopAfterEpoch: 1)
        XCTAssertThrowsError(
            try Trainer(
                configuration: TinyData.configuration(epochs: 2), model: .small(classes: 6),
                data: data, outputDirectory: out
            ).run()
        ) { error in
            XCTAssertTrue("\(error)".contains("--resume"), "\(error)")
        }
        XCTAssertThrowsError(
            try Trainer(
                configuration: TinyData.configuration(epochs: 5), model: .small(classes: 6),
                data: data, outputDirectory: out
            ).run(resume: true)
        ) { error in
            XCTAssertTrue("\(error)".contains("resume with the same options"), "\(error)")
        }
        XCTAssertThrowsError(
            try Trainer(
                configuration: TinyData.configuration(epochs: 2), model: .small(classes: 5),
                data: data, outputDirectory: out)
        ) { error in
            XCTAssertTrue("\(error)".contains("5 outputs but the data has 6 classes"), "\(error)")
        }
        var bad = TinyData.configuration(epochs: 2)
        bad.labelSmoothing = 1.5
        XCTAssertThrowsError(try Trainer(configuration: bad, model: .small(classes: 6), data: data, outputDirectory: out)) { error in
            XCTAssertTrue("\(error)".contains("label smoothing is 1.5"), "\(error)")
        }
        XCTAssertThrowsError(
            try TrainingData.esc50(
                directory: TinyData.directory.appendingPathComponent("data"),
                validationFold: 9, melConfig: TinyData.mel)
        ) { error in
            XCTAssertTrue("\(error)".contains("validation fold 9 is not in"), "\(error)")
        }
    }
}
