import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP GET streamed into a file, appending after `offset` bytes with a `Range` request
/// when `offset > 0`, or rewriting the file when the server sends the whole body.
final class HTTPFileTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// How a transfer ended.
    enum Outcome {
        /// The body was received completely; `total` is the file's full size when known.
        case complete(total: Int64?, validator: String?)
        /// The server says the range starts at or past the end; the file may be complete.
        case rangeNotSatisfiable(total: Int64?)
    }

    struct Failure: Error {
        var message: String
        var retryable: Bool
        var status: Int? = nil
        /// The validator of the bytes now in the file, when a 200 or 206 response began.
        var validator: String? = nil
    }

    private let file: URL
    private let progress: (@Sendable (Int64, Int64?) -> Void)?
    private let onBody: (@Sendable (String?) -> Void)?
    // Guarded by the session's serial delegate queue.
    private var handle: FileHandle?
    private var received: Int64 = 0
    private var expectedEnd: Int64?
    private var total: Int64?
    private var validator: String?
    private var failure: Failure?
    private var outcome: Outcome?
    private var continuation: CheckedContinuation<Result<Outcome, Failure>, Never>?

    private init(file: URL, progress: (@Sendable (Int64, Int64?) -> Void)?, onBody: (@Sendable (String?) -> Void)?) {
        self.file = file
        self.progress = progress
        self.onBody = onBody
    }

    /// Fetches `url` into `file`, resuming after `offset` bytes already there.
    /// `ifRange` is a strong ETag or Last-Modified value the partial bytes came from; `onBody`
    /// is told the validator of the body about to be written, before its first byte lands.
    static func run(
        url: URL, file: URL, offset: Int64, ifRange: String?, timeout: TimeInterval,
        progress: (@Sendable (Int64, Int64?) -> Void)?,
        onBody: (@Sendable (String?) -> Void)? = nil
    ) async -> Result<Outcome, Failure> {
        let transfer = HTTPFileTransfer(file: file, progress: progress, onBody: onBody)
        transfer.received = offset
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        if offset > 0 {
            request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range")
            if let ifRange { request.setValue(ifRange, forHTTPHeaderField: "If-Range") }
        }
        // Compression would make byte offsets meaningless for Range.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        let finalRequest = request
        return await withCheckedContinuation { continuation in
            queue.addOperation {
                transfer.continuation = continuation
                session.dataTask(with: finalRequest).resume()
            }
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            failure = Failure(message: "not an HTTP response", retryable: false)
            completionHandler(.cancel)
            return
        }
        let length = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        do {
            switch http.statusCode {
            case 200:
                // The whole body: start the file over (the server ignored or refused our Range).
                _ = FileManager.default.createFile(atPath: file.path, contents: nil)
                handle = try FileHandle(forWritingTo: file)
                received = 0
                validator = Self.strongValidator(http)
                total = length
                expectedEnd = length
            case 206:
                guard let range = Self.contentRange(http), range.start == received else {
                    failure = Failure(message: "a 206 response whose Content-Range does not start at byte \(received)", retryable: true)
                    // Restart from scratch on the next attempt rather than splice mismatched bytes.
                    try? FileManager.default.removeItem(at: file)
                    completionHandler(.cancel)
                    return
                }
                handle = try FileHandle(forWritingTo: file)
                try handle!.seek(toOffset: UInt64(received))
                validator = Self.strongValidator(http)
                total = range.total
                expectedEnd = range.end + 1
            case 416:
                outcome = .rangeNotSatisfiable(total: Self.contentRange(http)?.total)
                completionHandler(.cancel)
                return
            case 500..<600, 408, 429:
                failure = Failure(message: "HTTP status \(http.statusCode)", retryable: true, status: http.statusCode)
                completionHandler(.cancel)
                return
            default:
                failure = Failure(message: "HTTP status \(http.statusCode)", retryable: false, status: http.statusCode)
                completionHandler(.cancel)
                return
            }
        } catch {
            failure = Failure(message: "cannot write \(file.path): \(error.localizedDescription)", retryable: false)
            completionHandler(.cancel)
            return
        }
        onBody?(validator)
        progress?(received, total)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let handle else { return }
        do {
            try handle.write(contentsOf: data)
            received += Int64(data.count)
            progress?(received, total)
        } catch {
            failure = Failure(message: "cannot write \(file.path): \(error.localizedDescription)", retryable: false)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        try? handle?.synchronize()
        try? handle?.close()
        handle = nil
        let result: Result<Outcome, Failure>
        if var failure {
            failure.validator = validator
            result = .failure(failure)
        } else if let outcome {
            result = .success(outcome)
        } else if let error {
            result = .failure(Failure(message: error.localizedDescription, retryable: true, validator: validator))
        } else if let expectedEnd, received != expectedEnd {
            result = .failure(
                Failure(
                    message: "the body ended at byte \(received), expected \(expectedEnd)",
                    retryable: true, validator: validator))
        } else {
            result = .success(.complete(total: total ?? received, validator: validator))
        }
        continuation?.resume(returning: result)
        continuation = nil
    }

    /// `Content-Range: bytes start-end/total` (total may be `*`), or `bytes */total` for a 416.
    static func contentRange(_ response: HTTPURLResponse) -> (start: Int64, end: Int64, total: Int64?)? {
        guard let value = response.value(forHTTPHeaderField: "Content-Range") else { return nil }
        let parts = value.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bytes" else { return nil }
        let rangeAndTotal = parts[1].split(separator: "/", maxSplits: 1)
        guard rangeAndTotal.count == 2 else { return nil }
        let total = Int64(rangeAndTotal[1])
        if rangeAndTotal[0] == "*" { return (-1, -1, total) }
        let bounds = rangeAndTotal[0].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let start = Int64(bounds[0]), let end = Int64(bounds[1]), end >= start else { return nil }
        return (start, end, total)
    }

    /// A validator usable in `If-Range` (RFC 9110 §13.1.5 allows only strong ones).
    static func strongValidator(_ response: HTTPURLResponse) -> String? {
        if let etag = response.value(forHTTPHeaderField: "ETag"), !etag.hasPrefix("W/") { return etag }
        return response.value(forHTTPHeaderField: "Last-Modified")
    }
}
