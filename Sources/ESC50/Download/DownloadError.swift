import Foundation

/// What can go wrong while downloading, extracting or verifying a data set archive.
public enum DownloadError: Error, CustomStringConvertible {
    /// The destination exists but is not a completed download of ours; it is never overwritten.
    case destinationExists(URL)
    /// The server answered with an HTTP status that is neither 200 nor 206.
    case httpStatus(Int, url: URL)
    /// The transfer failed after every attempt; `reason` is the last failure.
    case transferFailed(URL, attempts: Int, reason: String)
    /// A local file or folder could not be written, moved or removed.
    case fileSystem(URL, reason: String)
    /// The downloaded file is not a readable ZIP archive (it is deleted, so the next call
    /// downloads afresh).
    case invalidArchive(URL, reason: String)
    /// The extracted archive holds no `meta/esc50.csv`, at its top or one folder down.
    case noDataSetInArchive(URL)
    /// The extracted data set failed validation (missing, unreadable or mislabelled clips).
    case invalidDataSet(ESC50Error)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .destinationExists(let url):
            return
                "\(url.path) exists but holds no completed download (no .esc50-complete marker); move it away or choose another destination"
        case .httpStatus(let status, let url):
            return "\(url.absoluteString): HTTP status \(status), expected 200 or 206"
        case .transferFailed(let url, let attempts, let reason):
            return "\(url.absoluteString): download failed after \(attempts) attempt(s): \(reason)"
        case .fileSystem(let url, let reason):
            return "\(url.path): \(reason)"
        case .invalidArchive(let url, let reason):
            return "\(url.path) is not a valid ZIP archive: \(reason)"
        case .noDataSetInArchive(let url):
            return "\(url.path): the archive holds no meta/esc50.csv (at its top or one folder down)"
        case .invalidDataSet(let error):
            return "the downloaded data set is invalid: \(error)"
        }
    }
}
