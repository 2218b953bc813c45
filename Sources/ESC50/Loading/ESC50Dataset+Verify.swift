import Foundation

extension ESC50Dataset {
    /// Decodes every clip of the data set (on all cores) and reports the first one, in CSV
    /// order, that does not decode.
    ///
    /// - Parameter check: decodes one clip, throwing a description of the problem; by default
    ///   a full decode with AudioDSP.
    /// - Throws: ``ESC50Error/unreadableClip(_:line:clip:reason:)`` naming the clip and its CSV line.
    public func verifyClips(using check: @escaping @Sendable (URL) throws -> Void = ClipLoader.checkDecodes)
        throws(ESC50Error)
    {
        let failures = FirstFailure()
        let clips = self.clips
        DispatchQueue.concurrentPerform(iterations: clips.count) { index in
            let url = audioURL(for: clips[index])
            do {
                try check(url)
            } catch {
                failures.record(
                    index: index,
                    .unreadableClip(
                        metadataURL, line: clips[index].csvLine,
                        clip: url, reason: String(describing: error)))
            }
        }
        if let error = failures.first { throw error }
    }
}

/// Keeps the failure of the lowest index, so the error reported does not depend on threads.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var best: (index: Int, error: ESC50Error)?

    func record(index: Int, _ error: ESC50Error) {
        lock.withLock {
            if best == nil || index < best!.index { best = (index, error) }
        }
    }

    var first: ESC50Error? { lock.withLock { best?.error } }
}
