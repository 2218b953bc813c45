import Foundation
import XCTest
@testable import TBLogger

final class SummaryWriterErrorTests: XCTestCase {
    func testLogdirUnderARegularFileIsReported() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        XCTAssertThrowsError(try SummaryWriter(logdir: file + "/run")) { error in
            guard case .cannotCreateDirectory(let path, let reason)? = error as? SummaryWriterError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, file + "/run")
            XCTAssertFalse(reason.isEmpty)
        }
    }

    /// A directory that exists but where no file can be created (even by root): /proc.
    func testUnwritableLogdirIsReported() throws {
        guard FileManager.default.fileExists(atPath: "/proc/self") else { throw XCTSkip("needs Linux /proc") }
        XCTAssertThrowsError(try SummaryWriter(logdir: "/proc")) { error in
            guard case .cannotCreateFile(let path, let reason)? = error as? SummaryWriterError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(path.hasPrefix("/proc/events.out.tfevents."), path)
            XCTAssertFalse(reason.isEmpty)
        }
    }

    func testClosedWriterRefusesEvents() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try SummaryWriter(logdir: directory)
        try writer.close()
        try writer.close()
        XCTAssertThrowsError(try writer.addScalar("a", 1, step: 0)) { error in
            XCTAssertEqual(error as? SummaryWriterError, .closed(logdir: directory))
        }
    }

    func testInvalidInputs() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try SummaryWriter(logdir: directory)
        XCTAssertThrowsError(try writer.addScalar("", 1, step: 0)) { error in
            XCTAssertEqual(error as? SummaryWriterError, .invalidTag("", reason: "empty (expected a non-empty name)"))
        }
        XCTAssertThrowsError(try writer.addText("a\u{0}b", "x", step: 0))
        XCTAssertThrowsError(try writer.addHistogram("h", [Float](), step: 0)) { error in
            XCTAssertEqual(error as? SummaryWriterError, .emptyHistogram(tag: "h"))
        }
        XCTAssertThrowsError(try writer.addHistogram("h", [1, .nan, 2] as [Float], step: 0)) { error in
            guard case .nonFiniteHistogramValue("h", 1, _)? = error as? SummaryWriterError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try writer.addHistogram("h", [1e30, -1e25], step: 0)) { error in
            XCTAssertEqual(error as? SummaryWriterError, .histogramOutOfRange(tag: "h"))
        }
        XCTAssertThrowsError(try writer.addHParams(["": 1], metrics: [:]))
        try writer.close()
        // Nothing invalid reached the file.
        XCTAssertEqual(try decodeEventFile(writer.eventFilePath).count, 1)
    }

    func testErrorsDescribeTheInput() {
        XCTAssertEqual(
            SummaryWriterError.emptyHistogram(tag: "w").description,
            "histogram \"w\": no values (expected at least one)")
        XCTAssertTrue(SummaryWriterError.cannotCreateFile(path: "/x/y", reason: "Permission denied").description.contains("/x/y"))
    }
}

final class EventFileWriterFailureTests: XCTestCase {
    /// A failed background write (here: ENOSPC from /dev/full) is reported by the next flush,
    /// logging call and close, naming the file.
    func testWriteFailureIsStickyAndReported() throws {
        let fd = open("/dev/full", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw XCTSkip("needs /dev/full") }
        let writer = EventFileWriter(descriptor: fd, path: "/dev/full", directory: "/dev", flushInterval: 1000)
        try writer.enqueue(PendingEvent(wallTime: 0, step: 0, payload: .scalar(tag: "a", value: 1)))
        let expected = SummaryWriterError.writeFailed(path: "/dev/full", reason: String(cString: strerror(ENOSPC)))
        XCTAssertThrowsError(try writer.flush()) { XCTAssertEqual($0 as? SummaryWriterError, expected) }
        XCTAssertThrowsError(try writer.enqueue(PendingEvent(wallTime: 0, step: 1, payload: .scalar(tag: "a", value: 2)))) {
            XCTAssertEqual($0 as? SummaryWriterError, expected)
        }
        XCTAssertThrowsError(try writer.close()) { XCTAssertEqual($0 as? SummaryWriterError, expected) }
    }
}
