import Foundation
import _CSndFile

/// libsndfile keeps the error of a failed open in one process-wide variable (`sf_error(NULL)`,
/// `sf_strerror(NULL)`), which the next open on any thread overwrites: a dataset verified on
/// several threads read "No Error." for a file that was not audio. Each open runs under one lock
/// with that error read before the lock is released, so every failure keeps its own code and
/// message. Decoding runs outside the lock, on the handle's own error state.
enum SndFileOpening {
    /// Guards libsndfile's state, not a Swift value: a plain pthread-backed lock. (`Locked<Void>`
    /// made ThreadSanitizer report an access race on its zero-sized value.)
    private static let lock = NSLock()

    /// The handle `open()` returns, or libsndfile's error code and message for its failure.
    static func open(_ open: () -> OpaquePointer?) -> (handle: OpaquePointer?, code: Int, message: String) {
        lock.lock()
        defer { lock.unlock() }
        if let handle = open() { return (handle, 0, "") }
        return (nil, Int(sf_error(nil)), String(cString: sf_strerror(nil)))
    }
}
