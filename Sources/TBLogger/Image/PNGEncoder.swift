/// Encodes 8-bit greyscale or RGB pixels as PNG (ISO/IEC 15948): signature, `IHDR`, one `IDAT`
/// holding a zlib stream of filter-type-0 scanlines, `IEND`.
enum PNGEncoder {
    /// PNG bytes for `height` rows of `width` pixels with `channels` (1 or 3) interleaved bytes each.
    /// The caller guarantees `pixels.count == width * height * channels`.
    static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "PNGEncoder: 1 or 3 channels")
        let rowBytes = width * channels
        var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        raw.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    // Byte 0 of each scanline is the filter type, 0 = none.
                    let row = UnsafeMutableBufferPointer(rebasing: dst[y * (rowBytes + 1) + 1..<(y + 1) * (rowBytes + 1)])
                    _ = row.initialize(from: UnsafeBufferPointer(rebasing: src[y * rowBytes..<(y + 1) * rowBytes]))
                }
            }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        // Bit depth 8; colour type 0 (greyscale) or 2 (truecolour); deflate; adaptive filtering; no interlace.
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", ZlibStored.encode(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        // The chunk CRC covers the type and the data, not the length.
        let crc = (typeBytes + data).withUnsafeBytes { CRC32.update(0, $0) }
        png += bigEndian(crc)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
