/// CRC-32C (Castagnoli), the checksum TFRecord framing uses, and TensorFlow's masked form of it.
///
/// The masked form exists because a CRC computed over data that itself embeds CRCs is weak;
/// TensorFlow rotates and offsets every stored CRC (`tensorflow/core/lib/hash/crc32c.h`), and
/// TensorBoard's reader checks the masked value.
public enum CRC32C {
    /// The CRC-32C of `bytes` (reflected polynomial 0x82F63B78, initial value and final XOR
    /// 0xFFFFFFFF), as in RFC 3720 appendix B.4.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            checksum(UnsafeRawBufferPointer(buffer))
        }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// The CRC-32C of the bytes in `buffer`.
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        ~update(0xFFFF_FFFF, buffer)
    }

    /// TensorFlow's mask of a CRC: rotate right by 15 bits, then add 0xA282EAD8 (mod 2^32).
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// Inverse of ``mask(_:)``.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }

    /// The masked CRC-32C of `buffer`, the value a TFRecord stores.
    public static func maskedChecksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        mask(checksum(buffer))
    }

    /// Slicing-by-8: eight bytes per step through eight 256-entry tables (8 KiB, built once).
    /// Event records are tens of bytes, so this is already far from being the bottleneck.
    static func update(_ state: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = state
        guard var p = buffer.baseAddress else { return crc }
        var n = buffer.count
        return tables.withUnsafeBufferPointer { t in
            while n >= 8 {
                let lo = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ crc
                let hi = UInt32(littleEndian: (p + 4).loadUnaligned(as: UInt32.self))
                crc =
                    t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                p += 8
                n -= 8
            }
            while n > 0 {
                crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                p += 1
                n -= 1
            }
            return crc
        }
    }

    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()
}
