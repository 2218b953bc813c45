import AudioDSP
import Foundation
import XCTest

/// Limits are enforced from the header, before decoding, and headers that lie about their
/// length cannot make the decoder allocate what they claim.
final class AudioDecodingLimitsTests: XCTestCase {
    private func file(_ name: String, frames: Int, channels: Int = 1, rate: Int = 8_000, format: Int32) throws -> Data {
        let url = SoundFileWriter.temporaryURL(name)
        defer { try? FileManager.default.removeItem(at: url) }
        let ints = (0..<(frames * channels)).map { Int32(truncatingIfNeeded: $0 &* 2_654_435_761) >> 4 }
        try SoundFileWriter.write(ints: ints, channels: channels, sampleRate: rate, format: format, to: url)
        return try Data(contentsOf: url)
    }

    func testDurationLimitUsesTheDeclaredLength() throws {
        // Two minutes of FLAC silence at 8 kHz: a small file declaring 120 s.
        let url = SoundFileWriter.temporaryURL("silence.flac")
        defer { try? FileManager.default.removeItem(at: url) }
        try SoundFileWriter.write(
            ints: [Int32](repeating: 0, count: 120 * 8_000), channels: 1, sampleRate: 8_000,
            format: SoundFileWriter.flac | SoundFileWriter.pcm16, to: url)
        let silence = try Data(contentsOf: url)
        XCTAssertLessThan(silence.count, 200_000, "silence compresses: the attack is a small upload")
        XCTAssertThrowsError(try AudioFile(data: silence, name: "long.flac", limits: AudioDecodingLimits(maximumDuration: 60))) { error in
            XCTAssertEqual(error as? AudioFileError, .tooLong(source: "long.flac", seconds: 120, limit: 60))
            XCTAssertTrue("\(error)".contains("at most 60 s"), "\(error)")
        }
        XCTAssertEqual(try AudioFile(data: silence, limits: AudioDecodingLimits(maximumDuration: 120)).samples.count, 960_000)
    }

    func testChannelLimitIsCheckedBeforeDecoding() throws {
        let wav = try file("many.wav", frames: 50, channels: 40, format: SoundFileWriter.wav | SoundFileWriter.pcm16)
        XCTAssertThrowsError(try AudioFile(data: wav, name: "many.wav", limits: AudioDecodingLimits(maximumChannels: 32))) { error in
            XCTAssertEqual(error as? AudioFileError, .tooManyChannels(source: "many.wav", channels: 40, limit: 32))
        }
        let clip = try AudioFile(data: wav, name: "many.wav", limits: AudioDecodingLimits(maximumChannels: 40))
        XCTAssertEqual(clip.sourceChannelCount, 40)
        XCTAssertEqual(clip.samples.count, 50)
    }

    /// FLAC's STREAMINFO holds a 36-bit total: a few hundred bytes may claim 2^36 - 1 frames
    /// (about 16 days at 48 kHz). Reserving that up front would abort the process.
    func testAFLACHeaderClaimingBillionsOfFramesIsTruncatedNotAllocated() throws {
        var flac = [UInt8](try file("claim.flac", frames: 4_000, format: SoundFileWriter.flac | SoundFileWriter.pcm16))
        // "fLaC", block header (4 bytes), STREAMINFO: 10 bytes of block/frame sizes, then 20 bits
        // rate, 3 bits channels, 5 bits depth and the 36-bit total starting in byte 8 + 13.
        XCTAssertEqual(Array(flac[0..<4]), Array("fLaC".utf8))
        flac[21] |= 0x0F
        for i in 22...25 { flac[i] = 0xFF }
        XCTAssertThrowsError(try AudioFile(data: Data(flac), name: "claim.flac")) { error in
            guard case .truncated("claim.flac", let expected, let decoded) = error as? AudioFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(expected, (1 << 36) - 1)
            XCTAssertEqual(decoded, 4_000)
        }
        XCTAssertThrowsError(try AudioFile(data: Data(flac), name: "claim.flac", limits: AudioDecodingLimits(maximumDuration: 600))) {
            error in
            guard case .tooLong = error as? AudioFileError else { return XCTFail("\(error)") }
        }
    }
}
