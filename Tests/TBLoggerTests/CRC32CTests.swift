import Foundation
import XCTest
import _TestSupport
@testable import TBLogger

final class CRC32CTests: XCTestCase {
    /// RFC 3720 (iSCSI) appendix B.4 test patterns, and the CRC catalogue's check value.
    func testPublishedVectors() {
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
        let iscsiRead: [UInt8] = [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        XCTAssertEqual(CRC32C.checksum(iscsiRead), 0xD996_3A56)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    /// Plain and masked CRCs against TensorBoard's own Python implementation
    /// (`Scripts/fixtures/tblogger_fixtures.py`), including lengths that exercise every tail size.
    func testAgainstTensorBoardImplementation() throws {
        struct Case: Decodable { let hex: String; let crc: UInt32; let masked: UInt32 }
        let data = try Data(contentsOf: Fixtures.url("TBLogger", "crc32c.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        XCTAssertGreaterThan(cases.count, 5)
        for c in cases {
            let bytes = [UInt8](hex: c.hex)
            XCTAssertEqual(CRC32C.checksum(bytes), c.crc, "crc of \(bytes.count) bytes")
            XCTAssertEqual(bytes.withUnsafeBytes { CRC32C.maskedChecksum($0) }, c.masked, "masked crc of \(bytes.count) bytes")
            XCTAssertEqual(CRC32C.unmask(c.masked), c.crc)
        }
    }

    func testEveryOffsetAndLengthMatchesBytewiseDefinition() {
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for start in 0..<9 {
            for end in start...bytes.count {
                let slice = Array(bytes[start..<end])
                var crc: UInt32 = 0xFFFF_FFFF
                for byte in slice {
                    crc ^= UInt32(byte)
                    for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
                }
                XCTAssertEqual(CRC32C.checksum(slice), ~crc)
            }
        }
    }

    func testNonContiguousSequence() {
        XCTAssertEqual(CRC32C.checksum("123456789".utf8.lazy.map { $0 }), 0xE306_9283)
    }
}
