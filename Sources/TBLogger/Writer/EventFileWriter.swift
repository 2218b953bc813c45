import Foundation
#if canImport(Glibc)
import Glibc
private let closeDescriptor = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let closeDescriptor = Darwin.close
#endif

/// One event file and the thread that encodes and writes its events.
///
/// Callers only append a ``PendingEvent`` to a queue under a lock. The writer thread takes the
/// whole queue at once, encodes it with protobuf-c into a ``RecordBuffer`` and hands the bytes to
/// the kernel when the buffer passes `writeThreshold`, when someone calls ``flush()``, and at least
/// every `flushInterval` seconds, so a crashed run still has its curves on disk.
///
/// All mutable state is guarded by `condition`, except `buffer` and `fd`, which only the writer
/// thread touches (and ``close()`` after that thread has finished).
final class EventFileWriter: @unchecked Sendable {
    let path: String
    let directory: String
    private let flushInterval: Double
    private let condition = NSCondition()
    private var pending: [PendingEvent] = []
    private var spare: [PendingEvent] = []
    private var requestedFlush = 0
    private var completedFlush = 0
    private var closing = false
    private var finished = false
    private var failure: SummaryWriterError?
    private var fd: Int32
    private let buffer = RecordBuffer()

    /// Events the writer thread takes from the queue at once before it wakes early.
    private static let wakeThreshold = 512
    /// A caller waits (the only time it does) when this many events are queued and unwritten.
    private static let maxPending = 1 << 17
    /// Encoded bytes kept before a `write(2)`.
    private static let writeThreshold = 1 << 18

    /// Creates `directory` if needed and a new event file in it, writes the `file_version` event
    /// (and, with a `purgeStep`, a session-start event at that step, as torch does).
    ///
    /// - Throws: ``SummaryWriterError/cannotCreateDirectory(path:reason:)`` or
    ///   ``SummaryWriterError/cannotCreateFile(path:reason:)``.
    convenience init(
        directory: String, flushInterval: Double, filenameSuffix: String = "",
        purgeStep: Int? = nil
    ) throws(SummaryWriterError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreateDirectory(path: directory, reason: Self.reason(error))
        }
        let path = (directory as NSString).appendingPathComponent(EventFileName.make(suffix: filenameSuffix))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotCreateFile(path: path, reason: String(cString: strerror(errno)))
        }
        self.init(descriptor: fd, path: path, directory: directory, flushInterval: flushInterval, purgeStep: purgeStep)
    }

    /// Takes ownership of an open, writable `descriptor` (tests use `/dev/full`) and starts the
    /// writer thread.
    init(descriptor: Int32, path: String, directory: String, flushInterval: Double, purgeStep: Int? = nil) {
        self.fd = descriptor
        self.path = path
        self.directory = directory
        self.flushInterval = flushInterval
        pending.reserveCapacity(Self.wakeThreshold * 2)
        spare.reserveCapacity(Self.wakeThreshold * 2)
        let now = Date().timeIntervalSince1970
        pending.append(PendingEvent(wallTime: now, step: Int64(purgeStep ?? 0), payload: .fileVersion))
        if let purgeStep {
            pending.append(PendingEvent(wallTime: now, step: Int64(purgeStep), payload: .sessionStart))
        }
        let thread = Thread { [self] in run() }
        thread.name = "TBLogger writer"
        thread.start()
    }

    deinit {
        if fd >= 0 { _ = closeDescriptor(fd) }
    }

    /// Queues `event`; returns at once unless the queue is full.
    ///
    /// - Throws: ``SummaryWriterError/closed(logdir:)`` after ``close()``, or the write error
    ///   that stopped the file.
    func enqueue(_ event: PendingEvent) throws(SummaryWriterError) {
        condition.lock()
        defer { condition.unlock() }
        while pending.count >= Self.maxPending, !closing, failure == nil { condition.wait() }
        if let failure { throw failure }
        guard !closing else { throw .closed(logdir: directory) }
        pending.append(event)
        if pending.count == Self.wakeThreshold { condition.broadcast() }
    }

    /// Blocks until every event queued before the call is handed to the kernel.
    ///
    /// - Throws: the write error that stopped the file, if any.
    func flush() throws(SummaryWriterError) {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        guard !finished else { return }
        requestedFlush += 1
        let ticket = requestedFlush
        condition.broadcast()
        while completedFlush < ticket, !finished, failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Writes what is queued, stops the writer thread and closes the file. Idempotent.
    ///
    /// - Throws: the write error that stopped the file, if any.
    func close() throws(SummaryWriterError) {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        let failure = self.failure
        if fd >= 0 {
            _ = closeDescriptor(fd)
            fd = -1
        }
        condition.unlock()
        if let failure { throw failure }
    }

    private func run() {
        var nextPeriodicFlush = Date().addingTimeInterval(flushInterval)
        condition.lock()
        while true {
            while pending.count < Self.wakeThreshold, !closing, completedFlush == requestedFlush,
                Date() < nextPeriodicFlush
            {
                _ = condition.wait(until: nextPeriodicFlush)
            }
            swap(&pending, &spare)
            let flushTicket = requestedFlush
            let flushRequested = requestedFlush > completedFlush
            let stopping = closing
            let blocked = spare.count >= Self.maxPending
            if blocked { condition.broadcast() }
            condition.unlock()

            for event in spare { EventEncoder.append(event, to: buffer) }
            spare.removeAll(keepingCapacity: true)
            let periodic = Date() >= nextPeriodicFlush
            var error: SummaryWriterError?
            if buffer.count >= Self.writeThreshold || flushRequested || stopping || periodic {
                error = writeBuffer()
            }
            if periodic { nextPeriodicFlush = Date().addingTimeInterval(flushInterval) }

            condition.lock()
            if let error, failure == nil { failure = error }
            completedFlush = max(completedFlush, flushTicket)
            condition.broadcast()
            if (stopping && pending.isEmpty) || failure != nil {
                finished = true
                closing = true
                condition.broadcast()
                break
            }
        }
        condition.unlock()
    }

    /// Hands the buffer to the kernel, retrying on interrupts and short writes.
    private func writeBuffer() -> SummaryWriterError? {
        defer { buffer.removeAll() }
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        return nsError.localizedDescription
    }
}
