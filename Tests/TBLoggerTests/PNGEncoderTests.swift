import Foundation
import XCTest
import _TestSupport
@testable import TBLogger

final class PNGEncoderTests: XCTestCase {
    /// The CRC catalogue's check value for CRC-32 and RFC 1950's Adler-32 of "Wikipedia".
    func testChecksumVectors() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum(Array("IEND".utf8)), 0xAE42_6082)  // every PNG's last 4 bytes
        XCTAssertEqual(ZlibStored.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(
            ZlibStored.adler32([UInt8](repeating: 0xFF, count: 100_000)), adlerByDefinition([UInt8](repeating: 0xFF, count: 100_000)))
    }

    /// Byte-identical to `zlib.compress(data, 0)` (zlib's own stored blocks) for inputs that fit
    /// one block.
    func testMatchesZlibLevel0() throws {
        struct Case: Decodable { let hex: String; let zlib: String }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.url("TBLogger", "zlib_level0.json")))
        for c in cases {
            XCTAssertEqual(ZlibStored.encode([UInt8](hex: c.hex)), [UInt8](hex: c.zlib), "\(c.hex.count / 2) bytes")
        }
    }

    func testMultiBlockStreamLayout() {
        let data = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let stream = ZlibStored.encode(data)
        XCTAssertEqual(stream.count, 2 + 3 * 5 + data.count + 4)
        XCTAssertEqual(inflateStored(stream), data)
    }

    /// Structure of an RGB PNG: signature, chunk CRCs, IHDR fields, scanlines with filter 0.
    func testPNGStructure() throws {
        let width = 5, height = 3
        let pixels = (0..<(width * height * 3)).map { UInt8($0 * 5) }
        let image = try SummaryImage(width: width, height: height, channels: .rgb, pixels: pixels)
        let png = image.pngData()
        XCTAssertEqual(Array(png[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var chunks: [(String, [UInt8])] = []
        var p = 8
        while p < png.count {
            let length = Int(png[p]) << 24 | Int(png[p + 1]) << 16 | Int(png[p + 2]) << 8 | Int(png[p + 3])
            let type = String(decoding: png[p + 4..<p + 8], as: UTF8.self)
            let body = Array(png[p + 8..<p + 8 + length])
            let crc = png[p + 8 + length..<p + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(crc, CRC32.checksum(Array(png[p + 4..<p + 8]) + body), type)
            chunks.append((type, body))
            p += 12 + length
        }
        XCTAssertEqual(chunks.map(\.0), ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(chunks[0].1, [0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0])
        var expected: [UInt8] = []
        for y in 0..<height { expected += [0] + pixels[y * width * 3..<(y + 1) * width * 3] }
        XCTAssertEqual(inflateStored(chunks[1].1), expected)
    }

    func testImageValidation() {
        XCTAssertThrowsError(try SummaryImage(width: 2, height: 2, channels: .rgb, pixels: [1, 2, 3])) { error in
            XCTAssertEqual(error as? SummaryWriterError, .invalidImage(reason: "3 bytes for 2 x 2 x 3 (expected 12)"))
        }
        XCTAssertThrowsError(try SummaryImage(width: 0, height: 2, channels: .greyscale, pixels: []))
    }

    func testIntensityConversionFollowsTorch() throws {
        // torch: (x * 255).clip(0, 255).astype(uint8) truncates.
        let image = try SummaryImage(width: 5, height: 1, channels: .greyscale, intensities: [-0.5, 0, 0.5, 0.999, 2])
        XCTAssertEqual(image.pixels, [0, 0, 127, 254, 255])
        let normalized = try SummaryImage(width: 3, height: 1, normalizing: [-80, -40, 0])
        XCTAssertEqual(normalized.pixels, [0, 128, 255])
    }

    func testVerticalFlip() throws {
        let image = try SummaryImage(width: 2, height: 3, channels: .rgb, pixels: Array(0..<18))
        let flipped = image.verticallyFlipped()
        XCTAssertEqual(flipped.pixels, Array(12..<18) + Array(6..<12) + Array(0..<6))
        XCTAssertEqual(flipped.verticallyFlipped(), image)
    }

    private func adlerByDefinition(_ data: [UInt8]) -> UInt32 {
        var a: UInt64 = 1, b: UInt64 = 0
        for byte in data {
            a = (a + UInt64(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return UInt32(b << 16 | a)
    }

    /// Inflates a zlib stream of stored blocks, checking its header, block lengths and Adler-32.
    private func inflateStored(_ stream: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        XCTAssertEqual((Int(stream[0]) << 8 | Int(stream[1])) % 31, 0, "zlib header check bits", file: file, line: line)
        var out: [UInt8] = []
        var p = 2
        while true {
            let header = stream[p]
            XCTAssertEqual(header >> 1, 0, "stored block type", file: file, line: line)
            let len = Int(stream[p + 1]) | Int(stream[p + 2]) << 8
            let nlen = Int(stream[p + 3]) | Int(stream[p + 4]) << 8
            XCTAssertEqual(len ^ nlen, 0xFFFF, file: file, line: line)
            out += stream[p + 5..<p + 5 + len]
            p += 5 + len
            if header & 1 == 1 { break }
        }
        let adler = stream[p..<p + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        XCTAssertEqual(adler, adlerByDefinition(out), file: file, line: line)
        XCTAssertEqual(p + 4, stream.count, file: file, line: line)
        return out
    }
}
