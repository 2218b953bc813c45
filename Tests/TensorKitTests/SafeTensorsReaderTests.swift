import Foundation
import XCTest
import _TestSupport
@testable import TensorKit

/// Reads files written by the reference Python `safetensors` package
/// (Scripts/fixtures/make_tensorkit_optim_fixtures.py) and checks every value against what
/// PyTorch stored or converted.
final class SafeTensorsReaderTests: XCTestCase {
    private func dtypesFile() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: Fixtures.url("TensorKit", "safetensors_dtypes.safetensors"))
    }

    private func bitPatterns(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func testEntriesShapesAndDTypes() throws {
        let file = try dtypesFile()
        XCTAssertEqual(file.entries.count, 16)
        XCTAssertEqual(file["i64"]?.dtype, .i64)
        XCTAssertEqual(file["i64"]?.shape, [2, 4])
        XCTAssertEqual(file["num_batches_tracked"]?.shape, [])
        XCTAssertEqual(file["empty"]?.shape, [0, 3])
        XCTAssertEqual(file["empty"]?.dataOffsets.count, 0)
        XCTAssertEqual(file["matrix"]?.shape, [2, 3, 4])
        XCTAssertEqual(file["f16"]?.dtype, .f16)
        XCTAssertEqual(file["bf16"]?.dtype, .bf16)
        XCTAssertEqual(file["bool"]?.dtype, .bool)
        XCTAssertNil(file["missing"])
        // Entries are in data order and tile the data section.
        var end = 0
        for entry in file.entries {
            XCTAssertEqual(entry.dataOffsets.lowerBound, end)
            end = entry.dataOffsets.upperBound
        }
    }

    func testMetadataIncludingEscapes() throws {
        let file = try dtypesFile()
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertEqual(file.metadata["note"], "unicode \u{e9}\u{2713} \"quoted\" back\\slash\nnewline")
    }

    func testFloat16AndBFloat16DecodeExactlyAsTorch() throws {
        let file = try dtypesFile()
        XCTAssertEqual(bitPatterns(try file.floats("f16")), bitPatterns(try file.floats("f16_as_f32")))
        XCTAssertEqual(bitPatterns(try file.floats("bf16")), bitPatterns(try file.floats("bf16_as_f32")))
    }

    func testFloat16AndBFloat16EncodeToTorchsBits() throws {
        // The writer's rounding of the same float32 source must give torch's .half()/.bfloat16() bits.
        let file = try dtypesFile()
        let source = try file.floats("float_source")
        var writer = SafeTensorsWriter()
        try writer.add("f16", shape: [source.count], floats: source, as: .f16)
        try writer.add("bf16", shape: [source.count], floats: source, as: .bf16)
        let written = try SafeTensorsFile(bytes: writer.serialized())
        for name in ["f16", "bf16"] {
            let ours = try written.withUnsafeBytes(of: name) { Array($0) }
            let torch = try file.withUnsafeBytes(of: name) { Array($0) }
            XCTAssertEqual(ours, torch, "\(name) bytes differ from torch's rounding")
        }
    }

    func testFloat32IsBitExactIncludingSpecials() throws {
        let file = try dtypesFile()
        let f32 = try file.floats("f32")
        let source = try file.floats("float_source")
        XCTAssertEqual(bitPatterns(Array(f32.dropLast())), bitPatterns(source))
        XCTAssertTrue(f32.last!.isNaN)
        XCTAssertTrue(source.contains(-0.0) && source.contains { $0 == 0 && $0.sign == .minus })
        XCTAssertTrue(source.contains(.infinity) && source.contains(-.infinity))
    }

    func testInt64IsExactAgainstPythonsDecimalText() throws {
        let file = try dtypesFile()
        let expected = file.metadata["i64_decimal"]!.split(separator: ",").map { Int64($0)! }
        XCTAssertEqual(try file.int64s("i64"), expected)
        XCTAssertEqual(try file.int64s("num_batches_tracked"), [987_654_321])
        XCTAssertEqual(try file.int64s("i32"), [-7, 2_147_483_647, -2_147_483_648, 12])
        XCTAssertEqual(try file.int64s("u8"), [0, 255, 17])
        XCTAssertEqual(try file.int64s("bool"), [1, 0, 1])
        XCTAssertEqual(try file.int64s("i16"), [-32768, 32767, 5])
        XCTAssertThrowsError(try file.int64s("f32")) { error in
            guard case SafeTensorsError.dtypeMismatch(let tensor, _, let actual) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "f32")
            XCTAssertEqual(actual, .f32)
        }
    }

    func testOtherTypesConvertToFloat() throws {
        let file = try dtypesFile()
        XCTAssertEqual(try file.floats("f64"), [Float(1.0 / 3.0), .infinity, -0.0])
        XCTAssertEqual(try file.floats("i32"), [-7, Float(Int32.max), Float(Int32.min), 12])
        XCTAssertEqual(try file.floats("bool"), [1, 0, 1])
        XCTAssertEqual(try file.floats("empty"), [])
    }

    func testTensorConversionKeepsShapeAndValues() throws {
        let file = try dtypesFile()
        let matrix = try file.tensor("matrix")
        XCTAssertEqual(matrix.shape, [2, 3, 4])
        XCTAssertEqual(matrix.scalars, (0..<24).map { Float($0) - 11.5 })
        XCTAssertEqual(matrix[1, 2, 3], 23 - 11.5)
        let scalar = try file.tensor("scalar")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.scalar, 2.75)
        XCTAssertEqual(try file.tensor("num_batches_tracked").scalar, Float(987_654_321 as Int64))  // nearest float
        XCTAssertEqual(file.tensors().count, 16)
    }

    func testMissingTensorNamesTheAlternatives() throws {
        let file = try dtypesFile()
        XCTAssertThrowsError(try file.tensor("nope")) { error in
            guard case SafeTensorsError.tensorNotFound(let name, let available) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "nope")
            XCTAssertEqual(available.count, 16)
            XCTAssertTrue("\(error)".contains("nope"))
        }
    }

    func testReadsOptimiserFixtureHeaderWithManyEntries() throws {
        let file = try SafeTensorsFile(contentsOf: Fixtures.url("TensorKit", "optim_adam.safetensors"))
        XCTAssertEqual(file.metadata["steps"], "10")
        XCTAssertEqual(file["init.conv.weight"]?.shape, [8, 1, 3, 3])
    }
}
