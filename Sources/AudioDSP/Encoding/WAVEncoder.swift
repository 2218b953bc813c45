import Foundation

/// Encodes mono 16-bit PCM WAV files (the canonical 44-byte header), for synthetic clips and
/// benchmarks; AudioDSP reads every format through libsndfile but writes only this one.
public enum WAVEncoder {
    /// A mono 16-bit PCM WAV file of `samples` (clipped to [-1, 1], rounded to the nearest
    /// step of 1/32767) at `sampleRate` Hz.
    public static func pcm16(_ samples: [Float], sampleRate: Int) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(44 + samples.count * 2)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        let dataSize = UInt32(samples.count * 2)
        bytes += Array("RIFF".utf8)
        u32(36 + dataSize)
        bytes += Array("WAVE".utf8)
        bytes += Array("fmt ".utf8)
        u32(16)  // fmt chunk size
        u16(1)  // PCM
        u16(1)  // mono
        u32(UInt32(sampleRate))
        u32(UInt32(sampleRate * 2))  // bytes per second
        u16(2)  // block align
        u16(16)  // bits per sample
        bytes += Array("data".utf8)
        u32(dataSize)
        for s in samples {
            u16(UInt16(bitPattern: Int16((max(-1, min(1, s)) * 32767).rounded())))
        }
        return Data(bytes)
    }
}
