import Foundation
import _TBLoggerProto
@testable import TBLogger

/// A `tensorboard.Event` decoded with protobuf-c's own unpacker, copied into Swift values.
struct DecodedEvent {
    var wallTime: Double
    var step: Int64
    var fileVersion: String?
    /// `session_log.status` (1 = START) when the event is a session log.
    var sessionStatus: Int?
    var values: [DecodedValue] = []
}

struct DecodedValue {
    var tag: String
    var simpleValue: Float?
    var histogram:
        (
            min: Double, max: Double, num: Double, sum: Double, sumSquares: Double,
            limits: [Double], counts: [Double]
        )?
    var image: (width: Int, height: Int, colorspace: Int, encoded: [UInt8])?
    var tensorStrings: [[UInt8]]?
    var tensorShape: [Int64]?
    var pluginName: String?
    var pluginContent: [UInt8]?
}

enum DecodeError: Error { case unpackFailed(record: Int) }

/// Decodes every record of an event file: framing and masked CRCs by `TFRecordReader`, then
/// `tensorboard__event__unpack`.
func decodeEventFile(_ path: String) throws -> [DecodedEvent] {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var reader = TFRecordReader(bytes: bytes)
    var events: [DecodedEvent] = []
    while let payload = try reader.next() {
        guard let event = payload.withUnsafeBufferPointer({ tensorboard__event__unpack(nil, $0.count, $0.baseAddress) })
        else { throw DecodeError.unpackFailed(record: events.count) }
        defer { tensorboard__event__free_unpacked(event, nil) }
        events.append(decode(event.pointee))
    }
    return events
}

private func decode(_ event: Tensorboard__Event) -> DecodedEvent {
    var out = DecodedEvent(wallTime: event.wall_time, step: event.step)
    if event.what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION {
        out.fileVersion = String(cString: event.file_version)
    }
    if event.what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG, let session = event.session_log?.pointee {
        out.sessionStatus = Int(session.status.rawValue)
    }
    if event.what_case == TENSORBOARD__EVENT__WHAT_SUMMARY, let summary = event.summary?.pointee {
        for i in 0..<summary.n_value {
            let v = summary.value[i]!.pointee
            var value = DecodedValue(tag: String(cString: v.tag))
            switch v.value_case {
            case TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE:
                value.simpleValue = v.simple_value
            case TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO:
                let h = v.histo.pointee
                value.histogram = (
                    h.min, h.max, h.num, h.sum, h.sum_squares,
                    Array(UnsafeBufferPointer(start: h.bucket_limit, count: h.n_bucket_limit)),
                    Array(UnsafeBufferPointer(start: h.bucket, count: h.n_bucket))
                )
            case TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE:
                let image = v.image.pointee
                value.image = (
                    Int(image.width), Int(image.height), Int(image.colorspace),
                    Array(
                        UnsafeBufferPointer(
                            start: image.encoded_image_string.data,
                            count: image.encoded_image_string.len))
                )
            case TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR:
                let tensor = v.tensor.pointee
                value.tensorStrings = (0..<tensor.n_string_val).map { j in
                    let s = tensor.string_val[j]
                    return Array(UnsafeBufferPointer(start: s.data, count: s.len))
                }
                if let shape = tensor.tensor_shape?.pointee {
                    value.tensorShape = (0..<shape.n_dim).map { shape.dim[$0]!.pointee.size }
                }
            default:
                break
            }
            if let plugin = v.metadata?.pointee.plugin_data?.pointee {
                value.pluginName = String(cString: plugin.plugin_name)
                value.pluginContent = Array(UnsafeBufferPointer(start: plugin.content.data, count: plugin.content.len))
            }
            out.values.append(value)
        }
    }
    return out
}

/// A fresh empty directory under the temporary directory.
func makeTemporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "tblogger-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The event files (`*tfevents*`) directly in `directory`.
func eventFiles(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.contains("tfevents") }.sorted().map { directory + "/" + $0 }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}
