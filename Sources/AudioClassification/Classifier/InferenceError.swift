import AudioDSP
import ResNetAudio

/// Why a clip could not be classified or the classifier could not be built.
///
/// Every case names the input that was wrong and what was expected; ``code`` is a stable,
/// machine-readable name (the `error` field of the HTTP API's error responses and of
/// `audiocnn predict --json`).
public enum InferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not audio libsndfile can decode (the underlying error says why).
    case invalidAudio(AudioFileError)
    /// The clip holds no samples, or too few for one analysis frame.
    case audioTooShort(samples: Int, minimum: Int)
    /// The clip is longer than the configured limit.
    case audioTooLong(seconds: Double, limit: Double)
    /// The clip has more channels than the configured limit.
    case tooManyChannels(channels: Int, limit: Int)
    /// The decoded samples include NaN or infinite values (`count` of them), which no
    /// spectrogram can represent; a float WAV must hold finite samples.
    case nonFiniteSamples(count: Int)
    /// The clip's rate cannot be resampled to the model's rate, or the front-end failed.
    case frontEnd(String)
    /// The checkpoint could not be loaded or does not describe a usable model.
    case checkpoint(String)
    /// `top` was not positive.
    case invalidTop(Int)
    /// A ``ScanOptions`` value is out of range (the message names it).
    case invalidScanOptions(String)
    /// A segment to analyse is not inside the audio.
    case invalidSegment(String)

    /// A stable machine-readable name for the error, e.g. `audio_too_long`.
    public var code: String {
        switch self {
        case .invalidAudio(.empty): return "empty_audio"
        case .invalidAudio(.unreadableFile): return "unreadable_file"
        case .invalidAudio: return "invalid_audio"
        case .audioTooShort: return "audio_too_short"
        case .audioTooLong: return "audio_too_long"
        case .tooManyChannels: return "too_many_channels"
        case .nonFiniteSamples: return "non_finite_audio"
        case .frontEnd: return "front_end_failed"
        case .checkpoint: return "invalid_checkpoint"
        case .invalidTop: return "invalid_top"
        case .invalidScanOptions: return "invalid_scan_options"
        case .invalidSegment: return "invalid_segment"
        }
    }

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidAudio(let error): return "\(error)"
        case .audioTooShort(let samples, let minimum):
            return "the audio holds \(samples) samples after resampling; at least \(minimum) are needed for one analysis frame"
        case .audioTooLong(let seconds, let limit):
            return "the audio lasts \(formatSeconds(seconds)) s; at most \(formatSeconds(limit)) s is accepted"
        case .tooManyChannels(let channels, let limit):
            return "the audio has \(channels) channels; at most \(limit) are accepted"
        case .nonFiniteSamples(let count):
            return "the audio holds \(count) NaN or infinite samples; expected finite samples (nominally in [-1, 1])"
        case .frontEnd(let why): return "the audio could not be analysed: \(why)"
        case .checkpoint(let why): return why
        case .invalidTop(let top): return "top is \(top); it must be at least 1"
        case .invalidScanOptions(let why), .invalidSegment(let why): return why
        }
    }
}

func formatSeconds(_ s: Double) -> String {
    let rounded = (s * 1000).rounded() / 1000
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
}
