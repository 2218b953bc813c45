import Foundation
import XCTest
@testable import TensorKit

/// Every way a safetensors input can be wrong gives its own error naming the problem.
final class SafeTensorsErrorTests: XCTestCase {
    /// A file from a hand-written header (padded as the reference writer pads) and data bytes.
    private func file(header: String, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        if pad { headerBytes += Array(repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8) }
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes += $0 }
        return bytes + headerBytes + data
    }

    private func assertError(
        _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
        _ check: (SafeTensorsError) -> Bool
    ) {
        do {
            _ = try SafeTensorsFile(bytes: bytes, source: "test.safetensors")
            XCTFail("expected an error", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty)
        }
    }

    private let eight = [UInt8](repeating: 0, count: 8)

    func testValidHandWrittenFileOpens() throws {
        let bytes = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 128, 63, 0, 0, 0, 64])
        XCTAssertEqual(try SafeTensorsFile(bytes: bytes).floats("a"), [1, 2])
        // Whitespace in the header is fine, and so is no padding at all.
        let spaced = file(
            header: "{ \"a\" : {\"shape\": [2] ,\"dtype\":\"F32\", \"data_offsets\":[0, 8]} }\n",
            data: [0, 0, 128, 63, 0, 0, 0, 64], pad: false)
        XCTAssertEqual(try SafeTensorsFile(bytes: spaced).floats("a"), [1, 2])
    }

    func testTooShortIsNotSafeTensors() {
        assertError([1, 2, 3]) {
            if case .notSafeTensors = $0 { return true }; return false
        }
    }

    func testHeaderTooLarge() {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { bytes += $0 }
        assertError(bytes + Array("{}".utf8)) {
            if case .headerTooLarge(_, 200_000_000, _) = $0 { return true }; return false
        }
    }

    func testHeaderLongerThanFileIsTruncated() {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(64).littleEndian) { bytes += $0 }
        assertError(bytes + Array("{}".utf8)) {
            if case .truncatedHeader(_, 64, 10) = $0 { return true }; return false
        }
    }

    func testHeaderNotStartingWithBraceIsNotSafeTensors() {
        // A NumPy .npy file, for example.
        assertError(file(header: "[1, 2]")) {
            if case .notSafeTensors = $0 { return true }; return false
        }
    }

    func testBadJSONNamesTheOffset() {
        assertError(file(header: #"{"a":{"dtype":"F32",}}"#)) {
            if case .invalidHeaderJSON(_, let offset, _) = $0 { return offset == 20 }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32""#)) {
            if case .invalidHeaderJSON = $0 { return true }; return false
        }
        assertError(file(header: "{\"a\u{1}\":1}")) {
            if case .invalidHeaderJSON = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":1} x"#)) {
            if case .invalidHeaderJSON = $0 { return true }; return false
        }
        // Invalid UTF-8 inside a key.
        var bytes = file(header: #"{"ab":1}"#)
        bytes[10] = 0xFF
        assertError(bytes) {
            if case .invalidHeaderJSON = $0 { return true }; return false
        }
    }

    func testDuplicateKeysAreRejected() {
        let entry = #"{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"#
        assertError(file(header: "{\"a\":\(entry),\"a\":\(entry)}")) {
            if case .invalidHeaderJSON(_, _, let reason) = $0 { return reason.contains("duplicate") }; return false
        }
    }

    func testMalformedEntries() {
        assertError(file(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidEntry("a", let reason) = $0 { return reason.contains("dtype") }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidEntry("a", _) = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidEntry("a", _) = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidEntry("a", _) = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])) {
            if case .invalidEntry("a", _) = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":[1,2]}"#)) {
            if case .invalidEntry("a", _) = $0 { return true }; return false
        }
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#)) {
            if case .invalidEntry("a", let reason) = $0 { return reason.contains("too large") }; return false
        }
    }

    func testUnknownDType() {
        assertError(file(header: #"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])) {
            if case .unknownDType("a", "F8_E4M3") = $0 { return true }; return false
        }
    }

    func testShapeByteCountMismatch() {
        assertError(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)) {
            if case .byteCountMismatch("a", .f32, [3], 12, 8) = $0 { return true }; return false
        }
    }

    func testOverlappingOffsets() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        assertError(file(header: header, data: eight)) {
            if case .overlappingOffsets("b", "a") = $0 { return true }; return false
        }
    }

    func testGapBetweenTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        assertError(file(header: header, data: eight + [0, 0, 0, 0])) {
            if case .gapInOffsets("b", 4, 8) = $0 { return true }; return false
        }
    }

    func testOutOfRangeOffsetsAndTruncatedData() {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        assertError(file(header: header, data: eight)) {
            if case .truncatedData("a", 16, 8) = $0 { return true }; return false
        }
        // A valid file cut short.
        var writer = SafeTensorsWriter()
        try? writer.add("w", shape: [100], floats: [Float](repeating: 1, count: 100))
        let bytes = writer.serialized()
        assertError(Array(bytes.dropLast(7))) {
            if case .truncatedData("w", 400, 393) = $0 { return true }; return false
        }
    }

    func testTrailingBytes() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        assertError(file(header: header, data: eight)) {
            if case .trailingBytes(4) = $0 { return true }; return false
        }
    }

    func testMetadataMustBeStrings() {
        assertError(file(header: #"{"__metadata__":{"epoch":3}}"#)) {
            if case .invalidMetadata = $0 { return true }; return false
        }
        assertError(file(header: #"{"__metadata__":"x"}"#)) {
            if case .invalidMetadata = $0 { return true }; return false
        }
    }

    func testDeepNestingIsRejectedNotACrash() {
        let deep = String(repeating: "[", count: 10_000)
        assertError(file(header: "{\"a\":\(deep)")) {
            if case .invalidHeaderJSON = $0 { return true }; return false
        }
    }

    func testMissingAndNonRegularFiles() {
        let missing = URL(fileURLWithPath: "/nonexistent/dir/x.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: missing)) { error in
            guard case SafeTensorsError.io(let path, "open", _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: NSTemporaryDirectory()))) { error in
            guard case SafeTensorsError.notSafeTensors = error else { return XCTFail("\(error)") }
        }
    }

    func testCopyFloatsChecksTheDestinationSize() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [3], floats: [1, 2, 3])
        let file = try SafeTensorsFile(bytes: writer.serialized())
        var small = [Float](repeating: 0, count: 2)
        XCTAssertThrowsError(try small.withUnsafeMutableBufferPointer { try file.copyFloats("a", into: $0) }) { error in
            guard case SafeTensorsError.invalidTensor("a", _) = error else { return XCTFail("\(error)") }
        }
    }
}
