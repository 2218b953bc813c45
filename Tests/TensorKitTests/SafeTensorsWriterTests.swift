import Foundation
import XCTest
@testable import TensorKit

final class SafeTensorsWriterTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tk-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testRoundTripThroughAFileKeepsEveryTypeAndTheMetadata() throws {
        var writer = SafeTensorsWriter(metadata: ["epoch": "3", "quote\"key": "line\nbreak \u{2713}"])
        let floats: [Float] = [0, -0.0, 1.5, -3.25e-20, .infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        try writer.add("layer1.0.conv1.weight", shape: [7, 1], floats: floats)
        try writer.add("half", shape: [4], floats: [1, -2, 0.5, 65504], as: .f16)
        try writer.add("brain", shape: [2, 2], floats: [1, -2, 0.5, 3.0e38], as: .bf16)
        try writer.add("double", shape: [1], floats: [0.1], as: .f64)
        try writer.add("bn.num_batches_tracked", shape: [], int64s: [Int64.max])
        try writer.add("raw", dtype: .u8, shape: [3], bytes: [1, 2, 250])
        try writer.add("empty", shape: [0, 5], floats: [])
        let url = directory.appendingPathComponent("model.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata, writer.metadata)
        XCTAssertEqual(try file.floats("layer1.0.conv1.weight").map(\.bitPattern), floats.map(\.bitPattern))
        XCTAssertEqual(file["layer1.0.conv1.weight"]?.shape, [7, 1])
        XCTAssertEqual(try file.floats("half"), [1, -2, 0.5, 65504])
        XCTAssertEqual(try file.floats("brain"), [1, -2, 0.5, Float(bitPattern: Float(3.0e38).bitPattern & 0xFFFF_0000 + 0x0001_0000)])
        XCTAssertEqual(try file.floats("double"), [0.1])
        XCTAssertEqual(try file.int64s("bn.num_batches_tracked"), [Int64.max])
        XCTAssertEqual(try file.int64s("raw"), [1, 2, 250])
        XCTAssertEqual(file["empty"]?.shape, [0, 5])
        XCTAssertEqual(Set(file.names), Set(writer.names))
    }

    func testLayoutMatchesTheReferenceWriter() throws {
        // The Rust crate: header padded with spaces to a multiple of 8, tensors by descending
        // alignment then name, offsets contiguous from 0, `__metadata__` first.
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("b", shape: [3], floats: [1, 2, 3], as: .f16)
        try writer.add("a", shape: [1], floats: [1])
        try writer.add("c", shape: [1], int64s: [5])
        try writer.add("d", shape: [1], floats: [2])
        let bytes = writer.serialized()
        let headerLength = Int(bytes[0..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(headerLength % 8, 0)
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self)
        let expected =
            #"{"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"#
            + #""a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"d":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"#
            + #""b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}}"#
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), expected)
        XCTAssertTrue(header.hasPrefix(expected) && header.dropFirst(expected.count).allSatisfy { $0 == " " })
        XCTAssertEqual(bytes.count, 8 + headerLength + 22)
    }

    func testEmptyFile() throws {
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter().serialized())
        XCTAssertTrue(file.entries.isEmpty)
        XCTAssertTrue(file.metadata.isEmpty)
    }

    func testWriteReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let url = directory.appendingPathComponent("ckpt.safetensors")
        var first = SafeTensorsWriter()
        try first.add("x", shape: [1], floats: [1])
        try first.write(to: url)
        let mapped = try SafeTensorsFile(contentsOf: url)  // stays valid while the file is replaced
        var second = SafeTensorsWriter()
        try second.add("x", shape: [2], floats: [7, 8])
        try second.write(to: url)
        XCTAssertEqual(try mapped.floats("x"), [1])
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).floats("x"), [7, 8])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["ckpt.safetensors"])
    }

    func testWriteIntoAMissingDirectoryNamesThePath() throws {
        let url = directory.appendingPathComponent("no/such/dir/x.safetensors")
        XCTAssertThrowsError(try SafeTensorsWriter().write(to: url)) { error in
            guard case SafeTensorsError.io(let path, "create", _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.contains("no/such/dir"))
        }
    }

    func testWriterRejectsBadTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [2], floats: [1, 2])
        func rejects(_ body: (inout SafeTensorsWriter) throws -> Void, _ expectedName: String, line: UInt = #line) {
            XCTAssertThrowsError(try body(&writer), line: line) { error in
                guard case SafeTensorsError.invalidTensor(let name, _) = error else { return XCTFail("\(error)", line: line) }
                XCTAssertEqual(name, expectedName, line: line)
            }
        }
        rejects({ try $0.add("a", shape: [1], floats: [1]) }, "a")  // duplicate
        rejects({ try $0.add("__metadata__", shape: [1], floats: [1]) }, "__metadata__")  // reserved
        rejects({ try $0.add("b", shape: [3], floats: [1, 2]) }, "b")  // count
        rejects({ try $0.add("c", shape: [-1], floats: []) }, "c")  // negative
        rejects({ try $0.add("d", shape: [1], floats: [1], as: .i32) }, "d")  // not a float type
        rejects({ try $0.add("e", dtype: .f32, shape: [2], bytes: [0, 0, 0]) }, "e")  // byte count
        rejects({ try $0.add("f", tensor: Tensor([1.5]), as: .i64) }, "f")  // non-integral I64
        XCTAssertEqual(writer.names, ["a"])
    }

    func testTensorAndInt64Conversions() throws {
        var writer = SafeTensorsWriter()
        let tensor = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        try writer.add("t", tensor: tensor)
        try writer.add("h", tensor: tensor, as: .bf16)
        try writer.add("n", tensor: Tensor(4096), as: .i64)
        let file = try SafeTensorsFile(bytes: writer.serialized())
        XCTAssertEqual(try file.tensor("t").shape, [2, 3])
        XCTAssertEqual(try file.tensor("t").scalars, tensor.scalars)
        XCTAssertEqual(try file.tensor("h").scalars, tensor.scalars)
        XCTAssertEqual(file["n"]?.dtype, .i64)
        XCTAssertEqual(try file.int64s("n"), [4096])
    }

    func testTensorsAreWrittenAsTheyWereWhenAddedInEveryFloatType() throws {
        // More elements than one conversion chunk, so the chunked F16/BF16/F64 paths are covered.
        let values = (0..<150_001).map { Float($0 % 1999) * 0.37 - 300 }
        var tensor = try Tensor(shape: [150_001], scalars: values)
        var writer = SafeTensorsWriter()
        for dtype in [SafeTensorsDType.f32, .f16, .bf16, .f64] { try writer.add(dtype.rawValue, tensor: tensor, as: dtype) }
        tensor[0] = 12345  // copy-on-write: the writer keeps the values it was given
        let url = directory.appendingPathComponent("chunks.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        let fromBytes = try SafeTensorsFile(bytes: writer.serialized())
        for dtype in [SafeTensorsDType.f32, .f16, .bf16, .f64] {
            let expected = values.map { value -> Float in
                switch dtype {
                case .f16: return SafeTensorsConversion.float(fromHalfBits: SafeTensorsConversion.halfBits(from: value))
                case .bf16: return SafeTensorsConversion.float(fromBFloat16Bits: SafeTensorsConversion.bfloat16Bits(from: value))
                default: return value
                }
            }
            XCTAssertEqual(try file.floats(dtype.rawValue), expected, dtype.rawValue)
            XCTAssertEqual(try fromBytes.floats(dtype.rawValue), expected, dtype.rawValue)
        }
    }

    #if !(os(macOS) && arch(x86_64))
    /// The portable half conversions against the platform's `Float16` (hardware or compiler-rt).
    func testHalfConversionsAgreeWithFloat16() {
        for bits in UInt16.min...UInt16.max {
            let reference = Float(Float16(bitPattern: bits))
            let ours = SafeTensorsConversion.float(fromHalfBits: bits)
            if reference.isNaN {
                XCTAssertTrue(ours.isNaN)
            } else {
                XCTAssertEqual(ours.bitPattern, reference.bitPattern, "half bits \(bits)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        var samples: [Float] = [65504, 65519.996, 65520, 1e-8, 2.9802322e-08, 2.9802326e-08, 5.9604645e-08, -0.0]
        for _ in 0..<200_000 {
            // Random bit patterns around the half range, where all the rounding cases are.
            let exponent = UInt32.random(in: 100...145, using: &generator)
            let bits =
                UInt32.random(in: 0...1, using: &generator) << 31 | exponent << 23 | UInt32.random(in: 0..<(1 << 23), using: &generator)
            samples.append(Float(bitPattern: bits))
        }
        for value in samples {
            XCTAssertEqual(SafeTensorsConversion.halfBits(from: value), Float16(value).bitPattern, "\(value)")
        }
        XCTAssertTrue(SafeTensorsConversion.float(fromHalfBits: SafeTensorsConversion.halfBits(from: .nan)).isNaN)
        XCTAssertEqual(SafeTensorsConversion.halfBits(from: .infinity), Float16.infinity.bitPattern)
    }
    #endif
}
