import Foundation
import XCTest
import _TestSupport
@testable import TensorKit

/// A module tree with PyTorch's names for the fixture script's `Net` (conv, bn, fc), built from
/// parameters and buffers only: the layers themselves are not needed to test checkpoints.
private final class Holder: Module {
    var isTraining = true
    let params: [(name: String, parameter: Parameter)]
    let buffers: [(name: String, buffer: Buffer)]
    init(params: [(String, [Int])], buffers: [(String, [Int], StateDType)] = []) {
        self.params = params.map { ($0.0, Parameter(Tensor(zeros: $0.1))) }
        self.buffers = buffers.map { ($0.0, Buffer(Tensor(zeros: $0.1), dtype: $0.2)) }
    }
    var namedOwnParameters: [(name: String, parameter: Parameter)] { params }
    var namedOwnBuffers: [(name: String, buffer: Buffer)] { buffers }
}

private final class Net: Module {
    var isTraining = true
    let conv = Holder(params: [("weight", [8, 1, 3, 3]), ("bias", [8])])
    let bn = Holder(
        params: [("weight", [8]), ("bias", [8])],
        buffers: [("running_mean", [8], .float32), ("running_var", [8], .float32), ("num_batches_tracked", [], .int64)])
    let fc = Holder(params: [("weight", [5, 8]), ("bias", [5])])
    var namedChildren: [(name: String, module: any Module)] { [("conv", conv), ("bn", bn), ("fc", fc)] }
}

final class SafeTensorsModuleTests: XCTestCase {
    func testLoadsAPyTorchStateDictAndSavesItBackWithPyTorchsTypes() throws {
        let torchURL = Fixtures.url("TensorKit", "module_state.safetensors")
        let torchFile = try SafeTensorsFile(contentsOf: torchURL)
        let net = Net()
        try net.loadSafeTensors(from: torchURL)
        XCTAssertEqual(net.bn.buffers[2].buffer.value.scalar, 3)  // three training forward passes
        XCTAssertEqual(net.fc.params[0].parameter.value.scalars, try torchFile.floats("fc.weight"))

        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tk-module-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try net.saveSafeTensors(to: url, metadata: ["format": "pt"])
        let saved = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(Set(saved.names), Set(torchFile.names))
        for entry in torchFile.entries {
            XCTAssertEqual(saved[entry.name]?.dtype, entry.dtype, entry.name)
            XCTAssertEqual(saved[entry.name]?.shape, entry.shape, entry.name)
            let ours = try saved.withUnsafeBytes(of: entry.name) { Array($0) }
            let torch = try torchFile.withUnsafeBytes(of: entry.name) { Array($0) }
            XCTAssertEqual(ours, torch, "\(entry.name): bytes differ from PyTorch's")
        }
    }

    func testStrictLoadNamesMissingAndUnexpectedKeys() throws {
        var writer = SafeTensorsWriter()
        try writer.add("conv.weight", tensor: Tensor(zeros: [8, 1, 3, 3]))
        try writer.add("head.weight", tensor: Tensor(zeros: [2]))
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tk-partial-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        XCTAssertThrowsError(try Net().loadSafeTensors(from: url)) { error in
            guard case TensorError.stateKeysMismatch(let missing, let unexpected) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(missing.contains("bn.num_batches_tracked"))
            XCTAssertEqual(unexpected, ["head.weight"])
        }
        XCTAssertNoThrow(try Net().loadSafeTensors(from: url, strict: false))
    }
}
