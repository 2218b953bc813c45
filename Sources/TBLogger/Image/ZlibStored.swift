/// A zlib stream (RFC 1950) whose deflate data (RFC 1951) is made of stored blocks only.
///
/// Foundation on Linux has no zlib, and TensorBoard images are small (a 128 x 431 spectrogram is
/// 55 KB raw), so compression is not worth a system dependency: stored blocks are valid deflate
/// that every PNG decoder reads.
enum ZlibStored {
    /// Largest payload of one stored block (its LEN field is 16 bits).
    static let maxBlock = 65_535

    /// Wraps `data` in a zlib stream: header `78 01`, stored blocks, big-endian Adler-32.
    static func encode(_ data: [UInt8]) -> [UInt8] {
        let blocks = max(1, (data.count + maxBlock - 1) / maxBlock)
        var out = [UInt8]()
        out.reserveCapacity(2 + blocks * 5 + data.count + 4)
        out += [0x78, 0x01]
        var start = 0
        repeat {
            let count = min(maxBlock, data.count - start)
            let final: UInt8 = start + count == data.count ? 1 : 0
            let len = UInt16(count), nlen = ~UInt16(count)
            out += [final, UInt8(len & 0xFF), UInt8(len >> 8), UInt8(nlen & 0xFF), UInt8(nlen >> 8)]
            out += data[start..<start + count]
            start += count
        } while start < data.count
        let adler = adler32(data)
        out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return out
    }

    /// Adler-32 (RFC 1950 section 8.2).
    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        data.withUnsafeBufferPointer { buffer in
            var i = 0
            // 5552 is the largest run after which `b` cannot overflow 32 bits before the modulo.
            while i < buffer.count {
                let end = min(buffer.count, i + 5552)
                while i < end {
                    a &+= UInt32(buffer[i])
                    b &+= a
                    i += 1
                }
                a %= 65_521
                b %= 65_521
            }
        }
        return (b << 16) | a
    }
}
