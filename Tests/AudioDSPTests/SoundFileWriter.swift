import Foundation
import XCTest
import _CSndFile

/// Writes test audio files with libsndfile itself, so decoded values can be checked against the
/// integer samples that went in.
enum SoundFileWriter {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("audiodsp-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    /// Writes interleaved 32-bit integers (full-scale = Int32.max; libsndfile shifts them down
    /// to the file's bit depth).
    static func write(ints: [Int32], channels: Int, sampleRate: Int, format: Int32, to url: URL) throws {
        try open(url, channels: channels, sampleRate: sampleRate, format: format) { handle in
            ints.withUnsafeBufferPointer { sf_write_int(handle, $0.baseAddress, sf_count_t(ints.count)) }
        }
    }

    static func write(floats: [Float], channels: Int, sampleRate: Int, format: Int32, to url: URL) throws {
        try open(url, channels: channels, sampleRate: sampleRate, format: format) { handle in
            floats.withUnsafeBufferPointer { sf_write_float(handle, $0.baseAddress, sf_count_t(floats.count)) }
        }
    }

    private static func open(
        _ url: URL, channels: Int, sampleRate: Int, format: Int32,
        body: (OpaquePointer) -> sf_count_t
    ) throws {
        var info = SF_INFO()
        info.channels = Int32(channels)
        info.samplerate = Int32(sampleRate)
        info.format = format
        guard let handle = sf_open(url.path, Int32(SFM_WRITE), &info) else {
            throw Failure(description: "sf_open for writing \(url.lastPathComponent): \(String(cString: sf_strerror(nil)))")
        }
        _ = body(handle)
        sf_close(handle)
    }

    static let wav = Int32(SF_FORMAT_WAV), aiff = Int32(SF_FORMAT_AIFF), flac = Int32(SF_FORMAT_FLAC)
    static let ogg = Int32(SF_FORMAT_OGG)
    static let u8 = Int32(SF_FORMAT_PCM_U8), s8 = Int32(SF_FORMAT_PCM_S8), pcm16 = Int32(SF_FORMAT_PCM_16)
    static let pcm24 = Int32(SF_FORMAT_PCM_24), pcm32 = Int32(SF_FORMAT_PCM_32)
    static let float = Int32(SF_FORMAT_FLOAT), double = Int32(SF_FORMAT_DOUBLE), vorbis = Int32(SF_FORMAT_VORBIS)
}
