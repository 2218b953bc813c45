import Foundation
import XCTest
import _TestSupport
@testable import TBLogger

final class TFRecordTests: XCTestCase {
    /// An event file written by TensorBoard's own Python writer: every record's masks check out
    /// and protobuf-c's unpacker recovers the values TensorBoard wrote.
    func testReadsFileWrittenByTensorBoard() throws {
        struct Expected: Decodable {
            struct Scalar: Decodable { let tag: String; let step: Int64; let value: Float; let wall_time: Double }
            let file_version: String
            let scalars: [Scalar]
        }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.url("TBLogger", "tensorboard.json")))
        let events = try decodeEventFile(Fixtures.url("TBLogger", "tensorboard.tfevents").path)
        XCTAssertEqual(events.count, 1 + expected.scalars.count)
        XCTAssertEqual(events.first?.fileVersion, expected.file_version)
        for (event, scalar) in zip(events.dropFirst(), expected.scalars) {
            XCTAssertEqual(event.step, scalar.step)
            XCTAssertEqual(event.wallTime, scalar.wall_time)
            XCTAssertEqual(event.values.first?.tag, scalar.tag)
            XCTAssertEqual(event.values.first?.simpleValue, scalar.value)
        }
    }

    /// Our framing of TensorBoard's payloads is byte-identical to TensorBoard's file.
    func testFramingMatchesTensorBoardBytes() throws {
        let file = try [UInt8](Data(contentsOf: Fixtures.url("TBLogger", "tensorboard.tfevents")))
        var reader = TFRecordReader(bytes: file)
        let buffer = RecordBuffer(capacity: 16)
        while let payload = try reader.next() {
            buffer.appendRecord(payloadSize: payload.count) { out in
                out.update(from: payload, count: payload.count)
            }
        }
        XCTAssertEqual(Array(buffer.bytes), file)
    }

    func testTruncatedRecordEndsTheFileQuietly() throws {
        let file = try [UInt8](Data(contentsOf: Fixtures.url("TBLogger", "tensorboard.tfevents")))
        var complete = TFRecordReader(bytes: file)
        var ends: [Int] = []
        var consumed = 0
        while let payload = try complete.next() {
            consumed += payload.count + 16
            ends.append(consumed)
        }
        XCTAssertEqual(consumed, file.count)
        // Cut inside the third record's header, then inside its payload, then before its footer ends.
        for cut in [ends[1] + 5, ends[1] + 14, ends[2] - 1] {
            var reader = TFRecordReader(bytes: Array(file[0..<cut]))
            var count = 0
            while try reader.next() != nil { count += 1 }
            XCTAssertEqual(count, 2, "cut at \(cut)")
        }
    }

    func testCorruptionIsReported() throws {
        var file = try [UInt8](Data(contentsOf: Fixtures.url("TBLogger", "tensorboard.tfevents")))
        var reader = TFRecordReader(bytes: file)
        let first = try XCTUnwrap(reader.next())
        file[12 + first.count + 16 + 14] ^= 0x40  // a payload byte of the second record
        reader = TFRecordReader(bytes: file)
        _ = try reader.next()
        XCTAssertThrowsError(try reader.next()) { error in
            guard case .corruptPayload(let offset, _, _)? = error as? TFRecordError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(offset, first.count + 16)
        }
        file[2] ^= 0x01  // the first record's length
        reader = TFRecordReader(bytes: file)
        XCTAssertThrowsError(try reader.next()) { error in
            guard case .corruptLength(0, _, _)? = error as? TFRecordError else { return XCTFail("\(error)") }
        }
    }
}
