import Foundation

/// Writes mono 16-bit PCM WAV files. AudioDSP reads audio (libsndfile) but does not write it;
/// the synthetic data set needs nothing more than this canonical 44-byte-header layout.
enum WAVWriter {
    /// Writes `samples` (clipped to [-1, 1]) at `sampleRate` to `url`, atomically.
    static func write(_ samples: [Float], sampleRate: Int, to url: URL) throws(TrainingError) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(44 + samples.count * 2)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        let dataSize = UInt32(samples.count * 2)
        bytes += Array("RIFF".utf8); u32(36 + dataSize); bytes += Array("WAVE".utf8)
        bytes += Array("fmt ".utf8); u32(16); u16(1); u16(1); u32(UInt32(sampleRate)); u32(UInt32(sampleRate * 2)); u16(2); u16(16)
        bytes += Array("data".utf8); u32(dataSize)
        for s in samples {
            let v = Int16((max(-1, min(1, s)) * 32767).rounded())
            u16(UInt16(bitPattern: v))
        }
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, reason: "cannot write WAV: \(error.localizedDescription)")
        }
    }
}
