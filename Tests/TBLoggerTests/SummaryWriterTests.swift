import Foundation
import XCTest
import _TBLoggerProto
import _TestSupport
@testable import TBLogger

final class SummaryWriterTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = makeTemporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testFileNameAndFirstEvent() throws {
        let before = Date().timeIntervalSince1970
        let writer = try SummaryWriter(logdir: directory)
        try writer.close()
        let files = eventFiles(in: directory)
        XCTAssertEqual(files, [writer.eventFilePath])
        let name = (writer.eventFilePath as NSString).lastPathComponent
        let fields = name.split(separator: ".", omittingEmptySubsequences: false)
        XCTAssertEqual(Array(fields.prefix(3)), ["events", "out", "tfevents"])
        let stamp = try XCTUnwrap(Double(fields[3]))
        XCTAssertEqual(fields[3].count, 10)
        XCTAssertEqual(stamp, before.rounded(.down), accuracy: 2)
        XCTAssertTrue(name.contains(".\(ProcessInfo.processInfo.hostName)."))
        let events = try decodeEventFile(files[0])
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].wallTime, before, accuracy: 5)
    }

    /// A resumed run's writer starts like torch's `SummaryWriter(purge_step: 3)`: file_version at
    /// step 3, then `session_log {status: START}` at step 3 (TensorBoard's reader then drops the
    /// earlier files' events from step 3 on); scalar-group runs start the same way.
    func testPurgeStepWritesASessionStartAtThatStep() throws {
        let writer = try SummaryWriter(logdir: directory, purgeStep: 3)
        try writer.addScalar("Loss/Train", 0.5, step: 3)
        try writer.addScalars("Loss", ["train": 1], step: 3)
        try writer.close()
        let events = try decodeEventFile(eventFiles(in: directory)[0])
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].step, 3)
        XCTAssertEqual(events[1].sessionStatus, Int(TENSORBOARD__SESSION_LOG__SESSION_STATUS__START.rawValue))
        XCTAssertEqual(events[1].step, 3)
        XCTAssertEqual(events[1].values.count, 0)
        XCTAssertEqual(events[2].values.first?.simpleValue, 0.5)
        let group = try decodeEventFile(eventFiles(in: directory + "/Loss_train")[0])
        XCTAssertEqual(group[1].sessionStatus, 1)

        // Without a purge step: no session log, file_version at step 0 (unchanged).
        let plain = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: plain) }
        try SummaryWriter(logdir: plain).close()
        let first = try decodeEventFile(eventFiles(in: plain)[0])
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first[0].step, 0)
        XCTAssertNil(first[0].sessionStatus)
    }

    /// Every record read back with both masked CRCs checked, then unpacked by protobuf-c.
    func testScalarsRoundTrip() throws {
        let writer = try SummaryWriter(logdir: directory)
        let tags = ["Loss/Train", "Loss/Validation", "Accuracy/Validation", "Learning_rate"]
        for step in 0..<100 {
            for (k, tag) in tags.enumerated() {
                try writer.addScalar(tag, Float(step) * 0.25 + Float(k), step: step, wallTime: 1000 + Double(step))
            }
        }
        try writer.addScalar("Double", 0.1 as Double, step: 7)
        try writer.close()
        let events = try decodeEventFile(writer.eventFilePath)
        XCTAssertEqual(events.count, 1 + 400 + 1)
        for (i, event) in events.dropFirst().prefix(400).enumerated() {
            let step = i / 4, k = i % 4
            XCTAssertEqual(event.step, Int64(step))
            XCTAssertEqual(event.wallTime, 1000 + Double(step))
            XCTAssertEqual(event.values.count, 1)
            XCTAssertEqual(event.values[0].tag, tags[k])
            XCTAssertEqual(event.values[0].simpleValue, Float(step) * 0.25 + Float(k))
        }
        XCTAssertEqual(events.last?.values.first?.simpleValue, Float(0.1))
    }

    func testRecordFramingAndMasksExplicitly() throws {
        let writer = try SummaryWriter(logdir: directory)
        try writer.addScalar("a", 1, step: 1)
        try writer.close()
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: writer.eventFilePath)))
        var offset = 0
        var records = 0
        while offset < file.count {
            let length = file[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
            let headerCRC = file[offset + 8..<offset + 12].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let expectedHeader = CRC32C.checksum(Array(file[offset..<offset + 8]))
            XCTAssertEqual(headerCRC, ((expectedHeader >> 15) | (expectedHeader << 17)) &+ 0xA282_EAD8)
            let payload = Array(file[offset + 12..<offset + 12 + length])
            let footer = file[offset + 12 + length..<offset + 16 + length].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let expectedFooter = CRC32C.checksum(payload)
            XCTAssertEqual(footer, ((expectedFooter >> 15) | (expectedFooter << 17)) &+ 0xA282_EAD8)
            offset += 16 + length
            records += 1
        }
        XCTAssertEqual(offset, file.count)
        XCTAssertEqual(records, 2)
    }

    func testScalarGroupsGoToOneRunPerMember() throws {
        let writer = try SummaryWriter(logdir: directory)
        for step in 0..<3 {
            try writer.addScalars("Loss/All", ["train": Double(step), "validation": Double(step) + 0.5], step: step)
        }
        try writer.close()
        for (member, offset) in [("train", 0.0), ("validation", 0.5)] {
            let files = eventFiles(in: directory + "/Loss_All_" + member)
            XCTAssertEqual(files.count, 1, member)
            let events = try decodeEventFile(files[0])
            XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
            XCTAssertEqual(events.dropFirst().map(\.step), [0, 1, 2])
            XCTAssertEqual(events.dropFirst().map { $0.values[0].tag }, ["Loss/All", "Loss/All", "Loss/All"])
            XCTAssertEqual(events.dropFirst().map { $0.values[0].simpleValue }, [0, 1, 2].map { Float(Double($0) + offset) })
        }
    }

    func testHistogramImageTextRoundTrip() throws {
        let writer = try SummaryWriter(logdir: directory)
        try writer.addHistogram("w", [Float](arrayLiteral: 0, 1, 1, -2.5), step: 2)
        try writer.addHistogram("d", [0.5, 0.25] as [Double], step: 3)
        let image = try SummaryImage(width: 4, height: 2, channels: .greyscale, pixels: Array(0..<8))
        try writer.addImage("img", image, step: 4)
        try writer.addText("notes", "héllo *world*", step: 5)
        try writer.close()
        let events = try decodeEventFile(writer.eventFilePath)
        XCTAssertEqual(events.count, 5)
        let h = try XCTUnwrap(events[1].values[0].histogram)
        let expected = try XCTUnwrap([0, 1, 1, -2.5].withUnsafeBufferPointer { Histogram($0) })
        XCTAssertEqual(h.limits, expected.bucketLimits)
        XCTAssertEqual(h.counts, expected.bucketCounts)
        XCTAssertEqual(h.counts.reduce(0, +), 4)
        XCTAssertEqual([h.min, h.max, h.num, h.sum, h.sumSquares], [-2.5, 1, 4, -0.5, 8.25])
        XCTAssertEqual(events[2].values[0].histogram?.num, 2)
        let img = try XCTUnwrap(events[3].values[0].image)
        XCTAssertEqual(img.width, 4)
        XCTAssertEqual(img.height, 2)
        XCTAssertEqual(img.colorspace, 1)
        XCTAssertEqual(img.encoded, image.pngData())
        XCTAssertEqual(events[4].values[0].tag, "notes")
        XCTAssertEqual(events[4].values[0].tensorStrings, [Array("héllo *world*".utf8)])
        XCTAssertEqual(events[4].values[0].tensorShape, [1])
        XCTAssertEqual(events[4].values[0].pluginName, "text")
    }

    func testHParamsForTheDashboard() throws {
        let writer = try SummaryWriter(logdir: directory)
        try writer.addHParams(
            ["lr": 0.001, "optimizer": "adamw", "mixup": true],
            metrics: ["hparam/accuracy": 0.75], runName: "session1")
        try writer.close()
        let files = eventFiles(in: directory + "/session1")
        XCTAssertEqual(files.count, 1)
        let events = try decodeEventFile(files[0])
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(
            events[1...3].map { $0.values[0].tag },
            ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"])
        XCTAssertTrue(events[1...3].allSatisfy { $0.values[0].pluginName == "hparams" })
        XCTAssertEqual(events[4].values[0].tag, "hparam/accuracy")
        XCTAssertEqual(events[4].values[0].simpleValue, 0.75)

        // The plugin content unpacks with protobuf-c into the hyper-parameters we gave.
        let content = try XCTUnwrap(events[2].values[0].pluginContent)
        let data = try XCTUnwrap(
            content.withUnsafeBufferPointer {
                tensorboard__hparams__hparams_plugin_data__unpack(nil, $0.count, $0.baseAddress)
            })
        defer { tensorboard__hparams__hparams_plugin_data__free_unpacked(data, nil) }
        XCTAssertEqual(data.pointee.data_case, TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO)
        let start = data.pointee.session_start_info.pointee
        var values: [String: String] = [:]
        for i in 0..<start.n_hparams {
            let entry = start.hparams[i]!.pointee
            let v = entry.value.pointee
            values[String(cString: entry.key)] =
                switch v.kind_case {
                case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: "number \(v.number_value)"
                case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: "string \(String(cString: v.string_value))"
                case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE: "bool \(v.bool_value != 0)"
                default: "other"
                }
        }
        XCTAssertEqual(values, ["lr": "number 0.001", "optimizer": "string adamw", "mixup": "bool true"])

        let experimentContent = try XCTUnwrap(events[1].values[0].pluginContent)
        let experimentData = try XCTUnwrap(
            experimentContent.withUnsafeBufferPointer {
                tensorboard__hparams__hparams_plugin_data__unpack(nil, $0.count, $0.baseAddress)
            })
        defer { tensorboard__hparams__hparams_plugin_data__free_unpacked(experimentData, nil) }
        let experiment = experimentData.pointee.experiment.pointee
        let names = (0..<experiment.n_hparam_infos).map { String(cString: experiment.hparam_infos[$0]!.pointee.name) }
        XCTAssertEqual(names, ["lr", "mixup", "optimizer"])
        XCTAssertEqual(experiment.n_metric_infos, 1)
        XCTAssertEqual(String(cString: experiment.metric_infos[0]!.pointee.name.pointee.tag), "hparam/accuracy")
    }

    func testConcurrentWritersLoseNothingAndKeepOrder() throws {
        let writer = try SummaryWriter(logdir: directory)
        let threads = 8, perThread = 5000
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for step in 0..<perThread {
                try! writer.addScalar("t\(t)", Float(step), step: step)
            }
        }
        try writer.flush()
        let events = try decodeEventFile(writer.eventFilePath)
        XCTAssertEqual(events.count, 1 + threads * perThread)
        var next = [String: Int64]()
        for event in events.dropFirst() {
            let tag = event.values[0].tag
            XCTAssertEqual(event.step, next[tag, default: 0], tag)
            XCTAssertEqual(event.values[0].simpleValue, Float(event.step))
            next[tag] = event.step + 1
        }
        XCTAssertEqual(next.count, threads)
        try writer.close()
    }

    /// Without flush() or close(), events reach the file within the flush interval.
    func testBackgroundFlush() throws {
        let writer = try SummaryWriter(logdir: directory, flushInterval: 0.1)
        try writer.addScalar("live", 3, step: 1)
        var found = false
        let deadline = Date().addingTimeInterval(10)
        while !found, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            found = try decodeEventFile(writer.eventFilePath).contains { $0.values.first?.tag == "live" }
        }
        XCTAssertTrue(found)
        try writer.close()
    }

    func testFlushMakesEverythingVisible() throws {
        let writer = try SummaryWriter(logdir: directory, flushInterval: 1000)
        for step in 0..<10 { try writer.addScalar("x", Float(step), step: step) }
        try writer.flush()
        XCTAssertEqual(try decodeEventFile(writer.eventFilePath).count, 11)
        try writer.addScalar("x", 10, step: 10)
        try writer.flush()
        XCTAssertEqual(try decodeEventFile(writer.eventFilePath).count, 12)
        try writer.close()
    }

    func testWriterDeinitWritesQueuedEvents() throws {
        var path = ""
        do {
            let writer = try SummaryWriter(logdir: directory, flushInterval: 1000)
            try writer.addScalar("x", 1, step: 1)
            path = writer.eventFilePath
        }
        XCTAssertEqual(try decodeEventFile(path).count, 2)
    }
}

final class SummaryWriterConcurrencyTests: XCTestCase {
    /// Flushes from some threads while others log: every flush returns, nothing is lost.
    func testFlushWhileLogging() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try SummaryWriter(logdir: directory, flushInterval: 0.05)
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            for step in 0..<3000 {
                if t < 2, step % 300 == 0 { try! writer.flush() }
                try! writer.addScalar("t\(t)", Float(step), step: step)
            }
        }
        try writer.close()
        let events = try decodeEventFile(writer.eventFilePath)
        XCTAssertEqual(events.count, 1 + 6 * 3000)
    }

    func testTwoWritersInOneDirectoryGetTheirOwnFiles() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let a = try SummaryWriter(logdir: directory), b = try SummaryWriter(logdir: directory)
        XCTAssertNotEqual(a.eventFilePath, b.eventFilePath)
        try a.close()
        try b.close()
        XCTAssertEqual(eventFiles(in: directory).count, 2)
    }
}
