/// Bounds on what ``AudioFile/init(data:name:limits:)`` will decode, checked against the header
/// before any sample is decoded, so a small upload cannot make the decoder allocate gigabytes.
///
/// A compressed file (FLAC, Ogg) of ten minutes of silence is a few hundred kB but decodes to
/// 100+ MB of floats; a header may also simply lie. With a limit set, such input fails with a
/// typed error instead: ``AudioFileError/tooLong(source:seconds:limit:)`` or
/// ``AudioFileError/tooManyChannels(source:channels:limit:)``.
///
/// ```swift
/// let clip = try AudioFile(data: upload, name: "upload",
///                          limits: AudioDecodingLimits(maximumDuration: 60, maximumChannels: 32))
/// ```
public struct AudioDecodingLimits: Sendable, Equatable {
    /// The longest clip accepted, in seconds, or `nil` for no limit. Checked against the frame
    /// count the header declares and again while decoding (for headers that do not say).
    public var maximumDuration: Double?
    /// The most channels accepted before down-mixing, or `nil` for libsndfile's own limit (1024).
    public var maximumChannels: Int?

    /// Limits as given; `nil` leaves that dimension unbounded.
    public init(maximumDuration: Double? = nil, maximumChannels: Int? = nil) {
        self.maximumDuration = maximumDuration
        self.maximumChannels = maximumChannels
    }

    /// No limit beyond the decoder's own (sample rate range, 1024 channels).
    public static let none = AudioDecodingLimits()
}
