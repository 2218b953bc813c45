import Foundation
import TensorKit
import XCTest
import _TestSupport
@testable import ResNetAudio

final class CheckpointTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnet-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A checkpoint of the reference PyTorch project, converted by Scripts/export_pytorch_checkpoint.py,
    /// loads and gives PyTorch's logits.
    func testPyTorchExportedCheckpointGivesPyTorchLogits() throws {
        let (model, meta) = try Checkpoint.load(from: Fixtures.url("ResNetAudio", "small_exported.safetensors"))
        XCTAssertEqual(meta.classes, (0..<10).map { "sound_\($0)" })
        XCTAssertEqual(meta.epoch, 3)
        XCTAssertEqual(meta.validationAccuracy, 0.5)
        XCTAssertEqual(meta.modelConfig, .small(classes: 10))
        XCTAssertNotNil(meta.melConfigJSON)
        XCTAssertFalse(model.isTraining)
        let reference = try SafeTensorsFile(contentsOf: Fixtures.url("ResNetAudio", "small_eval.safetensors"))
        let logits = withNoGrad { model(try! reference.tensor("input")) }
        assertAllClose(logits.scalars, try reference.tensor("logits").scalars, "logits")
    }

    func testSaveThenLoadRestoresEveryTensorAndTheMetadata() throws {
        let model = try AudioCNN(config: .small(classes: 4), seed: 9)
        model.train()
        _ = model(Tensor(repeating: 0.5, shape: [2, 1, 20, 30]))  // moves BN running statistics
        let url = directory.appendingPathComponent("c.safetensors")
        let meta = CheckpointMetadata(
            classes: ["a", "b", "c", "d"], modelConfig: model.config,
            melConfigJSON: #"{"nMels":128}"#, epoch: 12, validationAccuracy: 0.75,
            extra: ["seed": "9"])
        try Checkpoint.save(model, metadata: meta, to: url)
        let (loaded, loadedMeta) = try Checkpoint.load(from: url)
        XCTAssertEqual(loadedMeta, meta)
        let a = model.stateDict(), b = loaded.stateDict()
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, v) in a { XCTAssertEqual(v.scalars, b[k]?.scalars, k) }
        // Stored with PyTorch's dtypes: the counter as I64.
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file["conv1.1.num_batches_tracked"]?.dtype, .i64)
        XCTAssertEqual(file["fc.weight"]?.dtype, .f32)
    }

    /// A write that runs out of space (here a file-size limit, which fails `write(2)` with EFBIG
    /// as a full disk fails it with ENOSPC) throws an error naming the checkpoint and the cause,
    /// leaves no temporary file behind and the previous checkpoint loads unchanged.
    func testFailedWriteKeepsThePreviousCheckpoint() throws {
        let model = try AudioCNN(config: .small(classes: 4), seed: 1)
        let url = directory.appendingPathComponent("last.safetensors")
        let classes = ["a", "b", "c", "d"]
        try Checkpoint.save(model, metadata: CheckpointMetadata(classes: classes, modelConfig: model.config, epoch: 1), to: url)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let newer = try AudioCNN(config: .small(classes: 4), seed: 2)
        try withFileSizeLimit(size / 2) {
            XCTAssertThrowsError(
                try Checkpoint.save(newer, metadata: CheckpointMetadata(classes: classes, modelConfig: newer.config, epoch: 2), to: url)
            ) { error in
                guard case CheckpointError.file = error else { return XCTFail("\(error)") }
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(url.path), text)
                XCTAssertTrue(text.contains(String(cString: strerror(EFBIG))), text)
            }
        }
        XCTAssertEqual(temporaryFiles(in: directory), [])
        let (loaded, metadata) = try Checkpoint.load(from: url)
        XCTAssertEqual(metadata.epoch, 1)
        for (key, value) in model.stateDict() { XCTAssertEqual(loaded.stateDict()[key]?.scalars, value.scalars, key) }
    }

    /// A checkpoint whose folder is gone (deleted under a running job) fails by name, no crash.
    func testWriteIntoAMissingFolderNamesIt() throws {
        let model = try AudioCNN(config: .small(classes: 2), seed: 1)
        let url = directory.appendingPathComponent("gone/last.safetensors")
        XCTAssertThrowsError(
            try Checkpoint.save(model, metadata: CheckpointMetadata(classes: ["a", "b"], modelConfig: model.config), to: url)
        ) { error in
            XCTAssertTrue("\(error)".contains(directory.appendingPathComponent("gone").path), "\(error)")
            XCTAssertTrue("\(error)".contains(String(cString: strerror(ENOENT))), "\(error)")
        }
    }

    func testNotACheckpoint() throws {
        let url = directory.appendingPathComponent("junk.safetensors")
        try Data("definitely not safetensors".utf8).write(to: url)
        XCTAssertThrowsError(try Checkpoint.load(from: url)) { error in
            guard case CheckpointError.file = error else { return XCTFail("\(error)") }
        }
        // A bare state dict (valid safetensors, no checkpoint metadata).
        let bare = directory.appendingPathComponent("bare.safetensors")
        try AudioCNN(config: .small()).saveSafeTensors(to: bare)
        XCTAssertThrowsError(try Checkpoint.load(from: bare)) { error in
            guard case CheckpointError.notACheckpoint(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("format"), reason)
        }
    }

    func testTruncatedCheckpoint() throws {
        let url = directory.appendingPathComponent("t.safetensors")
        let model = try AudioCNN(config: .small(classes: 2))
        try Checkpoint.save(model, metadata: CheckpointMetadata(classes: ["x", "y"], modelConfig: model.config), to: url)
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 1000).write(to: url)
        XCTAssertThrowsError(try Checkpoint.load(from: url)) { error in
            guard case CheckpointError.file = error else { return XCTFail("\(error)") }
        }
    }

    func testWeightsThatDoNotFitTheConfigNameTheKeyAndBothShapes() throws {
        let model = try AudioCNN(config: .small(classes: 2))
        let url = directory.appendingPathComponent("m.safetensors")
        // Metadata claims wider stages than the weights have.
        var writer = SafeTensorsWriter(metadata: [
            "format": Checkpoint.format, "format_version": "1", "classes": #"["x","y"]"#,
            "model_config": #"{"num_classes":2,"depths":[1,1,1,1],"widths":[8,16,32,128],"stem_channels":8,"dropout":0.5}"#,
        ])
        for entry in model.stateEntries() { try writer.add(entry.name, tensor: entry.value) }
        try writer.write(to: url)
        XCTAssertThrowsError(try Checkpoint.load(from: url)) { error in
            guard case CheckpointError.weightsMismatch(_, let underlying) = error else { return XCTFail("\(error)") }
            let text = "\(underlying)"
            XCTAssertTrue(text.contains("[2, 64]") && text.contains("[2, 128]") && text.contains("fc.weight"), text)
        }
        // A missing key.
        var partial = SafeTensorsWriter(metadata: [
            "format": Checkpoint.format, "format_version": "1", "classes": #"["x","y"]"#,
            "model_config": #"{"num_classes":2,"depths":[1,1,1,1],"widths":[8,16,32,64],"stem_channels":8,"dropout":0.5}"#,
        ])
        for entry in model.stateEntries() where entry.name != "fc.bias" { try partial.add(entry.name, tensor: entry.value) }
        try partial.write(to: url)
        XCTAssertThrowsError(try Checkpoint.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains("fc.bias"), "\(error)")
        }
    }

    func testClassCountMustMatchTheModel() throws {
        let model = try AudioCNN(config: .small(classes: 3))
        XCTAssertThrowsError(
            try Checkpoint.save(
                model, metadata: CheckpointMetadata(classes: ["a"], modelConfig: model.config),
                to: directory.appendingPathComponent("x.safetensors")))
    }

    func testInvalidConfigIsRejected() {
        XCTAssertThrowsError(try AudioCNN(config: AudioCNNConfig(numClasses: 0)))
        XCTAssertThrowsError(try AudioCNN(config: AudioCNNConfig(numClasses: 2, depths: [1, 1], widths: [8])))
        XCTAssertThrowsError(try AudioCNN(config: AudioCNNConfig(numClasses: 2, dropout: 1)))
    }
}
