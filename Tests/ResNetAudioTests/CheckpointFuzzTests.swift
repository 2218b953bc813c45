import Foundation
import TensorKit
import XCTest
import _TestSupport
@testable import ResNetAudio

/// The checkpoint loader never crashes, and a damaged `model_config` cannot make it allocate
/// a model far larger than the file: seeded mutants of a real checkpoint load or throw a
/// ``CheckpointError``, and the inputs fuzzing found are kept as regression files.
final class CheckpointFuzzTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testStateValueCountMatchesTheBuiltModel() throws {
        let configs: [AudioCNNConfig] = [
            .small(classes: 3), .resnet34(classes: 50),
            AudioCNNConfig(numClasses: 2, depths: [1], widths: [2], stemChannels: 2),
            AudioCNNConfig(numClasses: 7, depths: [2, 3], widths: [4, 6], stemChannels: 4),  // identity first stage
            AudioCNNConfig(numClasses: 1, depths: [3, 1, 2], widths: [5, 5, 3], stemChannels: 2),
        ]
        for config in configs {
            let model = try AudioCNN(config: config)
            let built = model.stateEntries().reduce(0) { $0 + $1.value.count }
            XCTAssertEqual(config.stateValueCount, built, "\(config)")
        }
        XCTAssertNil(AudioCNNConfig(numClasses: 2, depths: [1], widths: [Int.max / 4]).stateValueCount)
    }

    /// A real small checkpoint whose model_config was edited to describe a huge model: refused
    /// from the metadata, before the model is built.
    func testHugeModelConfigIsRefusedBeforeAllocating() throws {
        let url = directory.appendingPathComponent("huge.safetensors")
        let model = try AudioCNN(config: .small(classes: 2))
        try Checkpoint.save(model, metadata: CheckpointMetadata(classes: ["a", "b"], modelConfig: model.config), to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        var metadata = file.metadata
        for huge in [
            "{\"num_classes\":2,\"depths\":[1,1,1,1],\"widths\":[8,16,32,1000000],\"stem_channels\":8,\"dropout\":0.5}",
            "{\"num_classes\":2,\"depths\":[1000000000,1,1,1],\"widths\":[8,16,32,64],\"stem_channels\":8,\"dropout\":0.5}",
            "{\"num_classes\":2,\"depths\":[1],\"widths\":[4611686018427387903],\"stem_channels\":8,\"dropout\":0.5}",
        ] {
            metadata["model_config"] = huge
            var writer = SafeTensorsWriter(metadata: metadata)
            for entry in file.entries {
                let bytes = try file.withUnsafeBytes(of: entry.name) { [UInt8]($0) }
                try writer.add(entry.name, dtype: entry.dtype, shape: entry.shape, bytes: bytes)
            }
            try writer.write(to: url)
            XCTAssertThrowsError(try Checkpoint.load(from: url)) { error in
                guard case CheckpointError.invalidMetadata(let path, let reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, url.path)
                XCTAssertTrue(reason.contains("model_config describes a model of"), reason)
            }
        }
    }

    func testSeededMutantsLoadOrGiveACheckpointError() throws {
        let model = try AudioCNN(config: AudioCNNConfig(numClasses: 2, depths: [1], widths: [2], stemChannels: 2))
        let seedURL = directory.appendingPathComponent("seed.safetensors")
        try Checkpoint.save(
            model,
            metadata: CheckpointMetadata(
                classes: ["a", "b"], modelConfig: model.config, epoch: 3,
                validationAccuracy: 0.5), to: seedURL)
        let seed = [UInt8](try Data(contentsOf: seedURL))
        XCTAssertNoThrow(try Checkpoint.load(from: seedURL))
        var mutator = Mutator(seed: 0xC4EC_4F01)
        let url = directory.appendingPathComponent("mutant.safetensors")
        var loaded = 0, rejected = 0
        for step in 0..<200 {
            try Data(mutator.mutant(of: [seed])).write(to: url)
            do {
                let (model, metadata) = try Checkpoint.load(from: url)
                XCTAssertEqual(metadata.classes.count, model.config.numClasses, "step \(step)")
                loaded += 1
            } catch {
                XCTAssertTrue("\(error)".contains(url.path), "step \(step): the error must name the file: \(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(loaded, 3)
        XCTAssertGreaterThan(rejected, 20)
    }

    /// Inputs fuzzing found (see Scripts/fuzz.sh); each must give a ``CheckpointError``.
    func testFuzzRegressionsGiveCheckpointErrors() throws {
        let regressions = Fixtures.url("ResNetAudio", "fuzz-regressions")
        let names = try FileManager.default.contentsOfDirectory(atPath: regressions.path)
        XCTAssertFalse(names.isEmpty)
        for name in names.sorted() {
            XCTAssertThrowsError(try Checkpoint.load(from: regressions.appendingPathComponent(name)), name) { error in
                XCTAssertTrue(error is CheckpointError, "\(name): \(error)")
            }
        }
    }
}
