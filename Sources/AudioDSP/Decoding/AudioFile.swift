import Foundation
import _CSndFile

/// A decoded audio clip, down-mixed to mono.
///
/// Decoding goes through libsndfile, so every format it reads works (WAV, FLAC, OGG/Vorbis,
/// AIFF, CAF, …) with 8/16/24/32-bit integer or 32/64-bit float samples and any channel count.
/// Integer samples are scaled to [-1, 1) the way libsndfile does (`v / 2^(bits-1)`); channels are
/// averaged into one.
///
/// ```swift
/// let clip = try AudioFile(contentsOf: URL(fileURLWithPath: "dog.flac"))
/// print(clip.sampleRate, clip.samples.count)
/// ```
public struct AudioFile: Sendable, Equatable {
    /// Mono samples, nominally in [-1, 1].
    public var samples: [Float]
    /// Samples per second, in Hz.
    public var sampleRate: Int
    /// The number of channels in the source before down-mixing.
    public var sourceChannelCount: Int

    /// Sample rates this type accepts, in Hz. Anything else in a header is treated as corrupt.
    public static let supportedSampleRates: ClosedRange<Int> = 1_000...768_000

    /// File extensions (lower-case, without the dot) of the audio formats libsndfile reads, for
    /// finding the audio files in a folder.
    public static let commonFileExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "aifc", "caf", "w64", "rf64", "au", "snd",
    ]

    /// The clip's length in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }

    /// Wraps samples that are already decoded.
    public init(samples: [Float], sampleRate: Int, sourceChannelCount: Int = 1) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.sourceChannelCount = sourceChannelCount
    }

    /// Decodes the audio file at `url`.
    ///
    /// - Parameters:
    ///   - url: a file in any format libsndfile reads (WAV, FLAC, OGG, AIFF, MP3...).
    ///   - limits: bounds checked against the header before decoding (none by default).
    /// - Throws: ``AudioFileError/unreadableFile(path:reason:)`` when the file cannot be read, or
    ///   any other ``AudioFileError`` case when its content is not valid audio or exceeds `limits`.
    public init(contentsOf url: URL, limits: AudioDecodingLimits = .none) throws(AudioFileError) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .unreadableFile(path: url.path, reason: Self.reason(for: error))
        }
        try self.init(data: data, name: url.lastPathComponent, limits: limits)
    }

    /// Decodes audio held in memory (for example the body of an HTTP upload).
    ///
    /// Untrusted input should pass `limits`: they are checked against the header before any
    /// sample is decoded, so memory stays bounded whatever the header claims.
    ///
    /// - Parameters:
    ///   - data: the complete bytes of an audio file.
    ///   - name: how error messages refer to the input.
    ///   - limits: the longest duration and most channels accepted (none by default).
    /// - Throws: an ``AudioFileError`` naming what is wrong with `data`, including
    ///   ``AudioFileError/tooLong(source:seconds:limit:)`` and
    ///   ``AudioFileError/tooManyChannels(source:channels:limit:)`` when `limits` are exceeded.
    public init(data: Data, name: String = "audio data", limits: AudioDecodingLimits = .none) throws(AudioFileError) {
        guard !data.isEmpty else { throw .empty(source: name) }
        let decoded = data.withUnsafeBytes { raw in
            Result { () throws(AudioFileError) in try SndFileDecoder.decode(raw, name: name, limits: limits) }
        }
        self = try decoded.get()
    }

    private static func reason(for error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        return ns.localizedDescription
    }
}
