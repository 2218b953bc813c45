import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One line of progress on standard error, redrawn in place when standard error is a terminal
/// (at most every `interval` seconds unless forced) and erased when done; nothing otherwise, so
/// redirected output and logs keep only the results. Safe to call from any thread.
final class StatusLine: @unchecked Sendable {
    /// Whether standard error is a terminal.
    let isTerminal = isatty(STDERR_FILENO) != 0
    private let interval: TimeInterval
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(interval: TimeInterval = 0.2) { self.interval = interval }

    /// Redraws the line with `text` (only computed when drawn).
    func show(_ text: @autoclosure () -> String, force: Bool = false) {
        guard isTerminal else { return }
        lock.withLock {
            let now = Date()
            guard force || now.timeIntervalSince(lastDraw) >= interval else { return }
            lastDraw = now
            drawn = true
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text()).utf8))
        }
    }

    /// Erases the line, if one was drawn.
    func clear() {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn = false
        }
    }
}
