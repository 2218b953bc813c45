/// Why a ``SummaryWriter`` call failed. Each case names the offending input and what was expected.
public enum SummaryWriterError: Error, Equatable, CustomStringConvertible {
    /// The log directory (or a run sub-directory) could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// The event file could not be created in its directory (not writable, disk full, ...).
    case cannotCreateFile(path: String, reason: String)
    /// Writing buffered events to the file failed; events after the failure are lost.
    case writeFailed(path: String, reason: String)
    /// The writer was closed with ``SummaryWriter/close()``; nothing more can be logged.
    case closed(logdir: String)
    /// A tag or hyper-parameter name is empty or contains a NUL byte.
    case invalidTag(String, reason: String)
    /// A histogram was requested for an empty array.
    case emptyHistogram(tag: String)
    /// A histogram value is NaN or infinite.
    case nonFiniteHistogramValue(tag: String, index: Int, value: Double)
    /// No histogram value lies inside TensorBoard's bucket range (magnitudes up to about 1e20).
    case histogramOutOfRange(tag: String)
    /// Image dimensions or pixel data are inconsistent.
    case invalidImage(reason: String)

    /// A sentence describing the failure.
    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            "cannot create log directory \(path): \(reason)"
        case let .cannotCreateFile(path, reason):
            "cannot create event file \(path): \(reason)"
        case let .writeFailed(path, reason):
            "writing events to \(path) failed: \(reason)"
        case let .closed(logdir):
            "the SummaryWriter for \(logdir) is closed"
        case let .invalidTag(tag, reason):
            "invalid tag \(String(reflecting: tag)): \(reason)"
        case let .emptyHistogram(tag):
            "histogram \(String(reflecting: tag)): no values (expected at least one)"
        case let .nonFiniteHistogramValue(tag, index, value):
            "histogram \(String(reflecting: tag)): value \(value) at index \(index) (expected finite values)"
        case let .histogramOutOfRange(tag):
            "histogram \(String(reflecting: tag)): every value has a magnitude above 1e20 (TensorBoard's bucket range)"
        case let .invalidImage(reason):
            "invalid image: \(reason)"
        }
    }
}
