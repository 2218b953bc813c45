/// Just enough RIFF/WAVE parsing to report the sample rate of a header libsndfile refused.
enum WAVHeader {
    /// The `nSamplesPerSec` field of the first `fmt ` chunk, or nil if `bytes` is not RIFF/WAVE.
    static func declaredSampleRate(in bytes: UnsafeRawBufferPointer) -> Int? {
        func tag(_ offset: Int) -> String? {
            guard offset + 4 <= bytes.count else { return nil }
            return String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
        }
        func le32(_ offset: Int) -> Int? {
            guard offset + 4 <= bytes.count else { return nil }
            return (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        guard tag(0) == "RIFF", tag(8) == "WAVE" else { return nil }
        var offset = 12
        while let id = tag(offset), let size = le32(offset + 4) {
            if id == "fmt " { return le32(offset + 12) }
            offset += 8 + size + (size & 1)
        }
        return nil
    }
}
