import ESC50
import Foundation

/// Why a training or evaluation run could not start or go on. Each case names the input at
/// fault and what was expected.
public enum TrainingError: Error, CustomStringConvertible {
    /// A hyper-parameter is out of range.
    case invalidConfiguration(String)
    /// The data set cannot be used as asked (no such fold, no clips, too few classes…).
    case invalidData(String)
    /// Verifying the data set found clips with errors (missing, unreadable, empty, too short,
    /// non-finite, duplicated or mislabelled); the report lists every one.
    case invalidClips(DatasetReport)
    /// `--resume` found no run to continue, or one that does not match this configuration.
    case cannotResume(String)
    /// Reading or writing a checkpoint, state file or log failed; `path` names the file.
    case io(path: String, reason: String)
    /// A batch (of training or evaluation) could not be loaded, computed or fed to the model.
    case batchFailed(String)
    /// The processes of a data-parallel run could not keep in step (a collective failed, or
    /// the run was started with another number of processes than it is resumed with).
    case distributed(String)

    /// One line naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid training configuration: \(text)"
        case .invalidData(let text): return "unusable data: \(text)"
        case .invalidClips(let report):
            return
                "unusable data: \(report.errors.count) error(s) in the data set (fix them, or skip the clips at fault)\n\(report.description)"
        case .cannotResume(let text): return "cannot resume: \(text)"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .batchFailed(let text): return "a batch could not be computed: \(text)"
        case .distributed(let text): return "data-parallel training: \(text)"
        }
    }
}
