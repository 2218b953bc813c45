import AudioDSP
import Foundation

/// Writes the synthetic data set's mono 16-bit PCM WAV files (AudioDSP's `WAVEncoder`).
enum WAVWriter {
    /// Writes `samples` (clipped to [-1, 1]) at `sampleRate` to `url`, atomically.
    static func write(_ samples: [Float], sampleRate: Int, to url: URL) throws(TrainingError) {
        do {
            try WAVEncoder.pcm16(samples, sampleRate: sampleRate).write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, reason: "cannot write WAV: \(error.localizedDescription)")
        }
    }
}
