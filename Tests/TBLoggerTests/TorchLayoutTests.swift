import Foundation
import XCTest
import _TBLoggerProto
import _TestSupport
@testable import TBLogger

/// TBLogger's `Summary` messages against the ones `torch.utils.tensorboard.summary` builds for the
/// same inputs (serialized by protobuf's Python runtime; `Scripts/fixtures/tblogger_fixtures.py`).
final class TorchLayoutTests: XCTestCase {
    struct Fixture: Decodable {
        struct Scalar: Decodable { let tag: String; let value: Float; let hex: String }
        struct Histogram: Decodable { let tag: String; let values: [Double]; let hex: String }
        struct Text: Decodable { let tag: String; let text: String; let hex: String }
        struct HParams: Decodable {
            let hparams: [String: JSONScalar]
            let metrics: [String: Double]
            let experiment_hex: String, session_start_hex: String, session_end_hex: String
        }
        let scalar: Scalar
        let histogram: Histogram
        let text: Text
        let hparams: HParams
    }

    enum JSONScalar: Decodable {
        case number(Double), string(String)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
        var hparam: HParamValue {
            switch self {
            case .number(let n): .number(n)
            case .string(let s): .string(s)
            }
        }
    }

    private var fixture: Fixture!

    override func setUpWithError() throws {
        fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Fixtures.url("TBLogger", "torch_summaries.json")))
    }

    func testScalarBytesMatchTorch() {
        let s = fixture.scalar
        XCTAssertEqual(summaryBytes(.scalar(tag: s.tag, value: s.value)), [UInt8](hex: s.hex))
    }

    func testHistogramBytesMatchTorch() {
        let h = fixture.histogram
        let ours = summaryBytes(.histogram(tag: h.tag, values: h.values))
        let torch = [UInt8](hex: h.hex)
        // sum and sum_squares are float64 sums whose last bits depend on the summation order
        // (numpy sums pairwise), so compare everything but those two fields byte for byte.
        XCTAssertEqual(withoutSums(ours), withoutSums(torch))
        XCTAssertEqual(ours.count, torch.count)
    }

    func testTextBytesMatchTorch() {
        let t = fixture.text
        XCTAssertEqual(summaryBytes(.text(tag: t.tag, text: t.text)), [UInt8](hex: t.hex))
    }

    func testHParamsMatchTorch() throws {
        let h = fixture.hparams
        let ordered = h.hparams.keys.sorted().map { PendingEvent.HParam(name: $0, value: h.hparams[$0]!.hparam) }
        XCTAssertEqual(
            summaryBytes(.hparamsExperiment(hparams: ordered, metrics: h.metrics.keys.sorted())),
            [UInt8](hex: h.experiment_hex))
        XCTAssertEqual(summaryBytes(.hparamsSessionEnd), [UInt8](hex: h.session_end_hex))
        // The session-start info holds a protobuf map, whose entry order differs between
        // serializers: compare its entries instead.
        XCTAssertEqual(
            try sessionStartEntries(summaryBytes(.hparamsSessionStart(hparams: ordered))),
            try sessionStartEntries([UInt8](hex: h.session_start_hex)))
        XCTAssertEqual(try sessionStartEntries([UInt8](hex: h.session_start_hex)).count, 3)
    }

    // MARK: - Helpers

    /// The serialized `Summary` of the event TBLogger encodes for `payload`.
    private func summaryBytes(_ payload: PendingEvent.Payload) -> [UInt8] {
        let buffer = RecordBuffer()
        EventEncoder.append(PendingEvent(wallTime: 1, step: 2, payload: payload), to: buffer)
        let record = Array(buffer.bytes)
        let payloadBytes = Array(record[12..<record.count - 4])
        let event = payloadBytes.withUnsafeBufferPointer { tensorboard__event__unpack(nil, $0.count, $0.baseAddress) }!
        defer { tensorboard__event__free_unpacked(event, nil) }
        let summary = event.pointee.summary!
        var out = [UInt8](repeating: 0, count: tensorboard__summary__get_packed_size(summary))
        out.withUnsafeMutableBufferPointer { _ = tensorboard__summary__pack(summary, $0.baseAddress) }
        return out
    }

    private func withoutSums(_ bytes: [UInt8]) -> [UInt8] {
        let summary = bytes.withUnsafeBufferPointer { tensorboard__summary__unpack(nil, $0.count, $0.baseAddress) }!
        defer { tensorboard__summary__free_unpacked(summary, nil) }
        summary.pointee.value[0]!.pointee.histo.pointee.sum = 0
        summary.pointee.value[0]!.pointee.histo.pointee.sum_squares = 0
        var out = [UInt8](repeating: 0, count: tensorboard__summary__get_packed_size(summary))
        out.withUnsafeMutableBufferPointer { _ = tensorboard__summary__pack(summary, $0.baseAddress) }
        return out
    }

    private func sessionStartEntries(_ summaryBytes: [UInt8]) throws -> [String: String] {
        let summary = try XCTUnwrap(summaryBytes.withUnsafeBufferPointer { tensorboard__summary__unpack(nil, $0.count, $0.baseAddress) })
        defer { tensorboard__summary__free_unpacked(summary, nil) }
        let value = summary.pointee.value[0]!.pointee
        XCTAssertEqual(String(cString: value.tag), "_hparams_/session_start_info")
        let plugin = value.metadata.pointee.plugin_data.pointee
        XCTAssertEqual(String(cString: plugin.plugin_name), "hparams")
        let data = try XCTUnwrap(tensorboard__hparams__hparams_plugin_data__unpack(nil, plugin.content.len, plugin.content.data))
        defer { tensorboard__hparams__hparams_plugin_data__free_unpacked(data, nil) }
        let start = data.pointee.session_start_info.pointee
        var entries: [String: String] = [:]
        for i in 0..<start.n_hparams {
            let entry = start.hparams[i]!.pointee
            let v = entry.value.pointee
            entries[String(cString: entry.key)] =
                switch v.kind_case {
                case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: "number \(v.number_value)"
                case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: "string \(String(cString: v.string_value))"
                default: "kind \(v.kind_case.rawValue)"
                }
        }
        return entries
    }
}
