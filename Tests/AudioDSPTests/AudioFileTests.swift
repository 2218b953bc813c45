import AudioDSP
import Foundation
import Synchronization
import XCTest

/// Decoding against the integer samples written with libsndfile (libsndfile's float reading
/// scales a b-bit integer v to v / 2^(b-1)), and every error path.
final class AudioFileTests: XCTestCase {
    private var cleanup: [URL] = []
    override func tearDown() {
        for url in cleanup { try? FileManager.default.removeItem(at: url) }
        cleanup = []
    }

    private func url(_ name: String) -> URL {
        let url = SoundFileWriter.temporaryURL(name)
        cleanup.append(url)
        return url
    }

    /// Every value of a `bits`-bit signed integer (or a strided subset), as full-scale Int32.
    private func ramp(bits: Int, count: Int) -> [Int] {
        let top = 1 << (bits - 1)
        return (0..<count).map { i in -top + (i * 7919) % (2 * top) }
    }

    private func checkInteger(bits: Int, container: Int32, subtype: Int32, ext: String) throws {
        let values = ramp(bits: bits, count: 3_000)
        let file = url("int\(bits).\(ext)")
        try SoundFileWriter.write(
            ints: values.map { Int32(truncatingIfNeeded: $0 << (32 - bits)) }, channels: 1,
            sampleRate: 16_000, format: container | subtype, to: file)
        for clip in [try AudioFile(contentsOf: file), try AudioFile(data: Data(contentsOf: file))] {
            XCTAssertEqual(clip.sampleRate, 16_000)
            XCTAssertEqual(clip.sourceChannelCount, 1)
            XCTAssertEqual(clip.samples.count, values.count)
            let scale = Double(1 << (bits - 1))
            for (got, v) in zip(clip.samples, values) {
                XCTAssertEqual(got, Float(Double(v) / scale), "\(bits)-bit \(ext) value \(v)")
                if got != Float(Double(v) / scale) { break }
            }
        }
    }

    func testWAV8BitUnsigned() throws { try checkInteger(bits: 8, container: SoundFileWriter.wav, subtype: SoundFileWriter.u8, ext: "wav") }
    func testAIFF8BitSigned() throws {
        try checkInteger(bits: 8, container: SoundFileWriter.aiff, subtype: SoundFileWriter.s8, ext: "aiff")
    }
    func testWAV16Bit() throws { try checkInteger(bits: 16, container: SoundFileWriter.wav, subtype: SoundFileWriter.pcm16, ext: "wav") }
    func testWAV24Bit() throws { try checkInteger(bits: 24, container: SoundFileWriter.wav, subtype: SoundFileWriter.pcm24, ext: "wav") }
    func testWAV32Bit() throws { try checkInteger(bits: 32, container: SoundFileWriter.wav, subtype: SoundFileWriter.pcm32, ext: "wav") }
    func testFLAC16Bit() throws { try checkInteger(bits: 16, container: SoundFileWriter.flac, subtype: SoundFileWriter.pcm16, ext: "flac") }
    func testFLAC24Bit() throws { try checkInteger(bits: 24, container: SoundFileWriter.flac, subtype: SoundFileWriter.pcm24, ext: "flac") }
    func testAIFF16Bit() throws { try checkInteger(bits: 16, container: SoundFileWriter.aiff, subtype: SoundFileWriter.pcm16, ext: "aiff") }

    func testFloatAndDoubleWAVAreExact() throws {
        let values = SyntheticSignals.noise.prefix(5_000).map { $0 }
        for (subtype, name) in [(SoundFileWriter.float, "f32"), (SoundFileWriter.double, "f64")] {
            let file = url("\(name).wav")
            try SoundFileWriter.write(
                floats: values, channels: 1, sampleRate: 48_000,
                format: SoundFileWriter.wav | subtype, to: file)
            let clip = try AudioFile(contentsOf: file)
            XCTAssertEqual(clip.samples, values, name)
            XCTAssertEqual(clip.sampleRate, 48_000)
        }
    }

    func testOggVorbisDecodes() throws {
        let values = Array(SyntheticSignals.chirp.prefix(22_050))
        let file = url("chirp.ogg")
        try SoundFileWriter.write(
            floats: values, channels: 1, sampleRate: 44_100,
            format: SoundFileWriter.ogg | SoundFileWriter.vorbis, to: file)
        let clip = try AudioFile(contentsOf: file)
        XCTAssertEqual(clip.samples.count, values.count)
        let rms = { (x: [Float]) in (x.reduce(0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
        XCTAssertEqual(rms(clip.samples), rms(values), accuracy: 0.05 * rms(values), "lossy, but same loudness")
    }

    func testChannelsAreAveraged() throws {
        for channels in [2, 5] {
            let frames = 1_000
            var interleaved = [Float]()
            var expected = [Float]()
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels {
                    let v = Float((f * (c + 3)) % 200 - 100) / 128
                    interleaved.append(v)
                    sum += v
                }
                expected.append(sum / Float(channels))
            }
            let file = url("multi\(channels).wav")
            try SoundFileWriter.write(
                floats: interleaved, channels: channels, sampleRate: 22_050,
                format: SoundFileWriter.wav | SoundFileWriter.float, to: file)
            let clip = try AudioFile(contentsOf: file)
            XCTAssertEqual(clip.sourceChannelCount, channels)
            XCTAssertEqual(clip.samples.count, frames)
            for (a, b) in zip(clip.samples, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
    }

    // MARK: - Errors

    private func assertThrows(
        _ expected: (AudioFileError) -> Bool, _ body: () throws -> AudioFile,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? AudioFileError else { return XCTFail("untyped \(error)", file: file, line: line) }
            XCTAssertTrue(expected(e), "unexpected \(e)", file: file, line: line)
            XCTAssertFalse(e.description.isEmpty)
        }
    }

    private func sixteenBitWAV(
        _ name: String, frames: Int = 4_410, channels: Int = 1, sampleRate: Int = 44_100,
        format: Int32 = SoundFileWriter.wav | SoundFileWriter.pcm16
    ) throws -> Data {
        let file = url(name)
        try SoundFileWriter.write(
            ints: (0..<frames * channels).map { Int32($0 % 1000) << 16 }, channels: channels,
            sampleRate: sampleRate, format: format, to: file)
        return try Data(contentsOf: file)
    }

    func testEmptyInput() {
        assertThrows({ $0 == .empty(source: "upload") }) { try AudioFile(data: Data(), name: "upload") }
        let file = url("empty.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: Data()))
        assertThrows({ $0 == .empty(source: file.lastPathComponent) }) { try AudioFile(contentsOf: file) }
    }

    func testNotAudio() {
        let text = Data(String(repeating: "this is certainly not audio. ", count: 20).utf8)
        assertThrows({
            if case .notAudio("notes.txt", _) = $0 { return true }; return false
        }) {
            try AudioFile(data: text, name: "notes.txt")
        }
        assertThrows({
            if case .notAudio = $0 { return true }; return false
        }) {
            try AudioFile(data: Data([0x00]), name: "one byte")
        }
    }

    /// libsndfile keeps a failed open's error in one process-wide variable: with valid files
    /// opened on other threads at the same time, text must still be "not audio" every time (it
    /// read "No Error." and came out malformed about one run in five of a parallel verify).
    func testNotAudioWhileOtherThreadsOpenValidFiles() throws {
        let text = Data(String(repeating: "this is certainly not audio. ", count: 20).utf8)
        let wav = try sixteenBitWAV("valid-for-race.wav", frames: 64)
        let path = url("valid-for-race.wav"), textFile = url("notes-for-race.txt")
        try text.write(to: textFile)
        let wrong = Atomic<Int>(0), rounds = 400
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for _ in 0..<rounds {
                switch thread {
                case 0:
                    do {
                        _ = try AudioFile(data: text, name: "notes.txt")
                        wrong.add(1, ordering: .relaxed)
                    } catch {
                        if case .notAudio = error as? AudioFileError {} else { wrong.add(1, ordering: .relaxed) }
                    }
                case 1:
                    do {
                        _ = try AudioFileReader(contentsOf: textFile)
                        wrong.add(1, ordering: .relaxed)
                    } catch {
                        if case .notAudio = error as? AudioFileError {} else { wrong.add(1, ordering: .relaxed) }
                    }
                case 2: if (try? AudioFile(data: wav)) == nil { wrong.add(1, ordering: .relaxed) }
                default: if (try? AudioFileReader(contentsOf: path)) == nil { wrong.add(1, ordering: .relaxed) }
                }
            }
        }
        XCTAssertEqual(wrong.load(ordering: .relaxed), 0, "opens classified wrongly out of \(4 * rounds)")
    }

    func testValidHeaderWithoutSamplesIsAnEmptyClip() throws {
        let wav = try sixteenBitWAV("none.wav", frames: 0)
        let clip = try AudioFile(data: wav)
        XCTAssertEqual(clip.samples, [])
        XCTAssertEqual(clip.sampleRate, 44_100)
        XCTAssertThrowsError(try MelSpectrogram().logMel(clip)) { error in
            guard case .signalTooShort(0, 513, _)? = error as? DSPError else { return XCTFail("\(error)") }
        }
    }

    func testMissingFileAndDirectory() {
        assertThrows({
            if case .unreadableFile(let path, _) = $0 { return path.hasSuffix("nope.wav") }; return false
        }) {
            try AudioFile(contentsOf: URL(fileURLWithPath: "/nonexistent/nope.wav"))
        }
        assertThrows({
            if case .unreadableFile = $0 { return true }; return false
        }) {
            try AudioFile(contentsOf: FileManager.default.temporaryDirectory)
        }
    }

    func testTruncatedWAVAndAIFFAndFLAC() throws {
        let wav = try sixteenBitWAV("t.wav")
        assertThrows({
            if case .truncated("cut.wav", let expected, let decoded) = $0 {
                return abs(expected - 4_410) <= 1 && decoded < 4_410
            }; return false
        }) {
            try AudioFile(data: wav.prefix(wav.count / 2), name: "cut.wav")
        }
        let aiff = try sixteenBitWAV("t.aiff", format: SoundFileWriter.aiff | SoundFileWriter.pcm16)
        assertThrows({
            if case .truncated(_, let expected, let decoded) = $0 {
                return abs(expected - 4_410) <= 1 && decoded < 4_410
            }; return false
        }) {
            try AudioFile(data: aiff.prefix(aiff.count / 2 + 1), name: "cut.aiff")
        }
        let flac = try sixteenBitWAV("t.flac", frames: 44_100, format: SoundFileWriter.flac | SoundFileWriter.pcm16)
        assertThrows({
            if case .truncated(_, 44_100, let decoded) = $0 { return decoded < 44_100 }; return false
        }) {
            try AudioFile(data: flac.prefix(flac.count / 2), name: "cut.flac")
        }
        // Cut inside the header: the format is recognised but unusable.
        assertThrows({
            if case .malformed("head.wav", _) = $0 { return true }; return false
        }) {
            try AudioFile(data: wav.prefix(30), name: "head.wav")
        }
    }

    /// The canonical 44-byte WAV header: channels at byte 22 (UInt16), sample rate at 24 (UInt32).
    private func patched(_ data: Data, at offset: Int, _ bytes: [UInt8]) -> Data {
        var d = data
        d.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return d
    }

    func testZeroChannels() throws {
        let wav = try sixteenBitWAV("c.wav")
        assertThrows({ $0 == .zeroChannels(source: "zero.wav") }) {
            try AudioFile(data: patched(wav, at: 22, [0, 0]), name: "zero.wav")
        }
    }

    func testAbsurdSampleRates() throws {
        let wav = try sixteenBitWAV("r.wav")
        for (rate, bytes) in [
            (0, [UInt8](repeating: 0, count: 4)), (4_000_000_000, [0x00, 0x28, 0x6B, 0xEE]),
            (100, [100, 0, 0, 0]), (2_000_000, [0x80, 0x84, 0x1E, 0x00]),
        ] {
            assertThrows({ $0 == .unsupportedSampleRate(source: "rate.wav", sampleRate: rate) }) {
                try AudioFile(data: patched(wav, at: 24, bytes), name: "rate.wav")
            }
        }
        // Plausible-but-unusual rates still decode.
        XCTAssertEqual(try AudioFile(data: patched(wav, at: 24, [0x40, 0x1F, 0, 0])).sampleRate, 8_000)
    }

    func testErrorMessagesNameTheInput() {
        XCTAssertTrue(AudioFileError.unsupportedSampleRate(source: "x.wav", sampleRate: 5).description.contains("x.wav"))
        XCTAssertTrue(AudioFileError.unsupportedSampleRate(source: "x.wav", sampleRate: 5).description.contains("1000...768000"))
        XCTAssertTrue(AudioFileError.truncated(source: "y.flac", expectedFrames: 10, decodedFrames: 5).description.contains("y.flac"))
    }
}
