import AudioDSP
import Foundation
import XCTest
import _TestSupport

/// Decoding from memory never crashes or hangs on damaged input: seeded mutants of valid files
/// in every container libsndfile reads, plus the inputs the libFuzzer run (Scripts/fuzz.sh)
/// found, each of which must now give a typed error.
final class AudioFileFuzzTests: XCTestCase {
    /// Valid seeds: 0.05 s of a tone at 8 kHz in WAV (16-bit, u8, float stereo), AIFF, FLAC, Ogg.
    private func seeds() throws -> [[UInt8]] {
        let frames = 400
        let tone = (0..<frames).map { Float(sin(Double($0) * 0.3) * 0.5) }
        let ints = tone.map { Int32($0 * Float(Int32.max)) }
        var result: [[UInt8]] = []
        let formats: [(String, Int32, Int)] = [
            ("s.wav", SoundFileWriter.wav | SoundFileWriter.pcm16, 1), ("s8.wav", SoundFileWriter.wav | SoundFileWriter.u8, 1),
            ("f.wav", SoundFileWriter.wav | SoundFileWriter.float, 2), ("s.aiff", SoundFileWriter.aiff | SoundFileWriter.pcm16, 1),
            ("s.flac", SoundFileWriter.flac | SoundFileWriter.pcm16, 1), ("s.ogg", SoundFileWriter.ogg | SoundFileWriter.vorbis, 1),
        ]
        for (name, format, channels) in formats {
            let url = SoundFileWriter.temporaryURL("fuzz-seed-" + name)
            defer { try? FileManager.default.removeItem(at: url) }
            if format & SoundFileWriter.float != 0 || format & SoundFileWriter.vorbis != 0 {
                let interleaved = tone.flatMap { [Float](repeating: $0, count: channels) }
                try SoundFileWriter.write(floats: interleaved, channels: channels, sampleRate: 8_000, format: format, to: url)
            } else {
                try SoundFileWriter.write(ints: ints, channels: channels, sampleRate: 8_000, format: format, to: url)
            }
            result.append([UInt8](try Data(contentsOf: url)))
        }
        return result
    }

    func testSeededMutantsGiveAClipOrATypedError() throws {
        let seeds = try seeds()
        for seed in seeds {
            XCTAssertNoThrow(try AudioFile(data: Data(seed), name: "seed"), "every seed must decode")
        }
        var mutator = Mutator(seed: 0xA0D1_0F11E)
        let limits = AudioDecodingLimits(maximumDuration: 30, maximumChannels: 64)
        var decoded = 0, rejected = 0
        for step in 0..<2_500 {
            let input = mutator.mutant(of: seeds)
            do {
                let clip = try AudioFile(data: Data(input), name: "mutant \(step)", limits: limits)
                XCTAssertLessThanOrEqual(clip.duration, 30, "step \(step)")
                XCTAssertTrue((1...64).contains(clip.sourceChannelCount), "step \(step)")
                XCTAssertTrue(AudioFile.supportedSampleRates.contains(clip.sampleRate), "step \(step)")
                decoded += 1
            } catch {
                XCTAssertTrue(
                    error.description.contains("mutant \(step)") || error.description.contains("empty"),
                    "the error must name the input: \(error)")
                rejected += 1
            }
        }
        // Both outcomes must be exercised, or the mutator is too timid or too destructive.
        XCTAssertGreaterThan(decoded, 100)
        XCTAssertGreaterThan(rejected, 100)
    }

    /// Inputs that once crashed or hung the decoder (found by fuzzing or review); each must now
    /// fail with a typed error.
    func testFuzzRegressionsGiveTypedErrors() throws {
        let directory = Fixtures.url("AudioDSP", "fuzz-regressions")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            XCTAssertThrowsError(try AudioFile(data: data, name: name, limits: AudioDecodingLimits(maximumDuration: 60)), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        }
    }
}
