/// Why a processing stage (resampling, STFT, Mel, masking) rejected its input or configuration.
public enum DSPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration value is out of range. `name` is the parameter as spelled in the API.
    case invalidParameter(name: String, value: String, expected: String)
    /// The signal has too few samples for the requested transform.
    case signalTooShort(samples: Int, minimum: Int, reason: String)
    /// A spectrogram's shape does not match what the operation expects.
    case shapeMismatch(expected: String, got: String)
    /// libsoxr reported an error.
    case resamplingFailed(reason: String)

    /// A one-line message naming the input and what was expected.
    public var description: String {
        switch self {
        case .invalidParameter(let name, let value, let expected):
            return "invalid \(name) = \(value): expected \(expected)"
        case .signalTooShort(let samples, let minimum, let reason):
            return "signal of \(samples) samples is too short: at least \(minimum) needed (\(reason))"
        case .shapeMismatch(let expected, let got):
            return "shape mismatch: expected \(expected), got \(got)"
        case .resamplingFailed(let reason):
            return "resampling failed: \(reason)"
        }
    }
}
