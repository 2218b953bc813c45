/// TFRecord framing, the container of TensorBoard event files.
///
/// Each record is `uint64 length`, `uint32 masked_crc32c(length bytes)`, `length` payload bytes,
/// `uint32 masked_crc32c(payload)`, all integers little-endian
/// (`tensorflow/core/lib/io/record_writer.cc`).
enum TFRecord {
    /// Bytes a record adds around its payload.
    static let overhead = 16

    /// Writes the 12-byte header for a payload of `length` bytes at `header`.
    static func writeHeader(length: Int, at header: UnsafeMutableRawPointer) {
        header.storeBytes(of: UInt64(length).littleEndian, as: UInt64.self)
        let crc = CRC32C.maskedChecksum(UnsafeRawBufferPointer(start: header, count: 8))
        (header + 8).storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    /// Writes the 4-byte footer (masked CRC of the payload) right after `payload`.
    static func writeFooter(payload: UnsafeRawBufferPointer, at footer: UnsafeMutableRawPointer) {
        footer.storeBytes(of: CRC32C.maskedChecksum(payload).littleEndian, as: UInt32.self)
    }
}

/// Reads TFRecord files record by record, checking both masked CRCs of each.
///
/// TensorBoard's own reader stops quietly at a truncated final record (a file still being
/// written); ``next()`` does the same by returning `nil`, and throws on a corrupt checksum.
public struct TFRecordReader: Sendable {
    /// The bytes being read.
    public let bytes: [UInt8]
    private var offset = 0

    /// A reader over the whole content of a record file.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The next record's payload, or `nil` at the end of the data or before an incomplete record.
    ///
    /// - Throws: ``TFRecordError`` when a length or payload checksum does not match.
    public mutating func next() throws(TFRecordError) -> [UInt8]? {
        let start = offset
        guard bytes.count - start >= 12 else { return nil }
        let (length, lengthCRC) = bytes.withUnsafeBytes { raw in
            (
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)),
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8, as: UInt32.self))
            )
        }
        let expectedLengthCRC = bytes.withUnsafeBytes {
            CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: $0[start..<start + 8]))
        }
        guard lengthCRC == expectedLengthCRC else {
            throw .corruptLength(offset: start, stored: lengthCRC, computed: expectedLengthCRC)
        }
        guard length <= UInt64(bytes.count - start - 12),
            bytes.count - start - 12 - Int(length) >= 4
        else { return nil }
        let payloadRange = start + 12..<start + 12 + Int(length)
        let (stored, computed) = bytes.withUnsafeBytes { raw in
            (
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: payloadRange.upperBound, as: UInt32.self)),
                CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: raw[payloadRange]))
            )
        }
        guard stored == computed else {
            throw .corruptPayload(offset: start, stored: stored, computed: computed)
        }
        offset = payloadRange.upperBound + 4
        return Array(bytes[payloadRange])
    }
}

/// A TFRecord whose stored checksum does not match its bytes.
public enum TFRecordError: Error, Equatable, CustomStringConvertible {
    /// The masked CRC of the 8 length bytes of the record at byte `offset` is wrong.
    case corruptLength(offset: Int, stored: UInt32, computed: UInt32)
    /// The masked CRC of the payload of the record at byte `offset` is wrong.
    case corruptPayload(offset: Int, stored: UInt32, computed: UInt32)

    /// A sentence naming the record and both checksums.
    public var description: String {
        switch self {
        case let .corruptLength(offset, stored, computed):
            "TFRecord at byte \(offset): length checksum 0x\(String(stored, radix: 16)) stored, 0x\(String(computed, radix: 16)) computed"
        case let .corruptPayload(offset, stored, computed):
            "TFRecord at byte \(offset): payload checksum 0x\(String(stored, radix: 16)) stored, 0x\(String(computed, radix: 16)) computed"
        }
    }
}
