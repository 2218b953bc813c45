/// Why an audio file or buffer could not be decoded.
///
/// Every case names what was wrong with the input and, where it helps, what was expected,
/// so the message can be shown to a user as is.
public enum AudioFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file at `path` could not be read at all (missing, a directory, no permission…).
    case unreadableFile(path: String, reason: String)
    /// The input holds no bytes.
    case empty(source: String)
    /// The bytes are not in any audio format libsndfile recognises.
    case notAudio(source: String, reason: String)
    /// The format is recognised but its header or data is corrupt.
    case malformed(source: String, reason: String)
    /// The container promises more sample frames than the bytes contain.
    case truncated(source: String, expectedFrames: Int, decodedFrames: Int)
    /// The header declares zero (or a negative number of) channels.
    case zeroChannels(source: String)
    /// The header declares a sample rate outside ``AudioFile/supportedSampleRates``.
    case unsupportedSampleRate(source: String, sampleRate: Int)
    /// The header is readable but the sample data could not be decoded.
    case decodingFailed(source: String, reason: String)
    /// The clip lasts longer than ``AudioDecodingLimits/maximumDuration`` (seconds).
    case tooLong(source: String, seconds: Double, limit: Double)
    /// The header declares more channels than ``AudioDecodingLimits/maximumChannels``.
    case tooManyChannels(source: String, channels: Int, limit: Int)

    /// A one-line message naming the input and what was expected.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read audio file '\(path)': \(reason)"
        case .empty(let source):
            return "\(source): the input is empty (0 bytes); expected an audio file"
        case .notAudio(let source, let reason):
            return "\(source): not a recognised audio format (\(reason)); expected WAV, FLAC, OGG, AIFF or another format libsndfile reads"
        case .malformed(let source, let reason):
            return "\(source): corrupt audio file: \(reason)"
        case .truncated(let source, let expected, let decoded):
            return "\(source): truncated: the header declares \(expected) sample frames but only \(decoded) could be decoded"
        case .zeroChannels(let source):
            return "\(source): the header declares no audio channels; expected at least 1"
        case .unsupportedSampleRate(let source, let rate):
            let range = AudioFile.supportedSampleRates
            return "\(source): sample rate \(rate) Hz is outside the supported range \(range.lowerBound)...\(range.upperBound) Hz"
        case .decodingFailed(let source, let reason):
            return "\(source): the sample data could not be decoded: \(reason)"
        case .tooLong(let source, let seconds, let limit):
            return "\(source): the audio lasts \(Self.format(seconds)) s; at most \(Self.format(limit)) s are accepted"
        case .tooManyChannels(let source, let channels, let limit):
            return "\(source): the header declares \(channels) channels; at most \(limit) are accepted"
        }
    }

    /// Seconds with at most three decimals, without a trailing `.0`.
    private static func format(_ seconds: Double) -> String {
        let rounded = (seconds * 1000).rounded() / 1000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
    }
}
