import Foundation
import XCTest
@testable import TensorKit

/// Writes the file that Scripts/fixtures/check_tensorkit_safetensors_writer.py checks with the
/// reference Python package (a manual step: CI has no Python). With `TENSORKIT_CROSSCHECK_DIR`
/// unset it writes to a temporary directory and checks only what Swift can check itself.
final class SafeTensorsCrossCheckTests: XCTestCase {
    func testWriteCrossCheckFile() throws {
        let environment = ProcessInfo.processInfo.environment["TENSORKIT_CROSSCHECK_DIR"]
        let directory = URL(fileURLWithPath: environment ?? NSTemporaryDirectory())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(
            environment == nil ? "tk-crosscheck-\(UUID().uuidString).safetensors" : "swift_written.safetensors")
        defer { if environment == nil { try? FileManager.default.removeItem(at: url) } }

        // The same exact formula as the script: every value is a double computed exactly, then rounded.
        let values = (0..<1000).map { (i: Int) -> Float in
            let numerator = Double((i * 37) % 1001 - 500)
            let scale: Double = pow(2.0, Double(i % 41 - 20))
            return Float(numerator / 64.0 * scale)
        }
        let tensor = try Tensor(shape: [10, 100], scalars: values)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("weights.f32", tensor: tensor)
        try writer.add("weights.f16", shape: [1000], floats: values, as: .f16)
        try writer.add("weights.bf16", shape: [1000], floats: values, as: .bf16)
        try writer.add("bn.num_batches_tracked", shape: [], int64s: [123_456_789_012])
        try writer.add("ints", shape: [4], int64s: [.min, .max, 0, -5])
        try writer.add("empty", tensor: Tensor(zeros: [0, 4]))
        try writer.add("scalar", tensor: Tensor(-1.5))
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.tensor("weights.f32").scalars, values)
        XCTAssertEqual(try file.int64s("ints"), [.min, .max, 0, -5])
        XCTAssertEqual(file.metadata, ["format": "pt"])
    }
}
