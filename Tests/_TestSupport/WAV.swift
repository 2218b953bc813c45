import Foundation

/// RIFF/WAVE files written field by field from the format's specification, independent of the
/// code under test: the tests' one WAV writer.
public enum WAV {
    /// A canonical 44-byte-header WAV whose `fmt ` fields say exactly what the arguments say
    /// (so a test can write headers no encoder would), followed by `payload` as the `data` chunk.
    public static func file(formatTag: Int = 1, channels: Int, sampleRate: Int, bitsPerSample: Int, payload: [UInt8]) -> Data {
        var data = Data()
        data.reserveCapacity(44 + payload.count)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        let blockAlign = channels * bitsPerSample / 8
        data.append(contentsOf: Array("RIFF".utf8))
        u32(36 + payload.count)
        data.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16)
        u16(formatTag)
        u16(channels)
        u32(sampleRate)
        u32(sampleRate * blockAlign)
        u16(blockAlign)
        u16(bitsPerSample)
        data.append(contentsOf: Array("data".utf8))
        u32(payload.count)
        data.append(contentsOf: payload)
        return data
    }

    /// 16-bit PCM with one `[Int16]` per channel (all of one length), interleaved.
    public static func pcm16(_ channels: [[Int16]], sampleRate: Int) -> Data {
        let frames = channels.first?.count ?? 0
        var payload = [UInt8]()
        payload.reserveCapacity(frames * channels.count * 2)
        for i in 0..<frames {
            for channel in channels { withUnsafeBytes(of: channel[i].littleEndian) { payload += $0 } }
        }
        return file(channels: channels.count, sampleRate: sampleRate, bitsPerSample: 16, payload: payload)
    }
}
