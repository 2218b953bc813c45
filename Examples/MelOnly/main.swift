// MelOnly: the AudioDSP front-end on its own, with nothing else from the suite.
//
//   swift run -c release MelOnly path/to/clip.flac
//
// Prints the clip's format and the shape and dB statistics of its log-Mel spectrogram
// (default MelConfig: 44.1 kHz, n_fft 1024, hop 512, 128 HTK Mel bands).
import AudioDSP
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 2, !arguments[1].hasPrefix("-") else {
    let me = URL(fileURLWithPath: arguments[0]).lastPathComponent
    FileHandle.standardError.write(
        Data(
            """
            usage: \(me) AUDIO_FILE
              Prints the log-Mel spectrogram statistics of AUDIO_FILE (any format libsndfile reads),
              resampled to 44,100 Hz: shape [mels, frames] and min / max / mean in dB.

            """.utf8))
    exit(2)
}

do {
    let config = MelConfig()
    let clip = try AudioFile(contentsOf: URL(fileURLWithPath: arguments[1]))
    let logMel = try MelSpectrogram(config).logMel(clip)  // resamples to 44.1 kHz if needed
    let values = logMel.values
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
    print("file:     \(arguments[1])")
    print("source:   \(clip.sourceChannelCount) channel(s), \(clip.sampleRate) Hz, \(String(format: "%.3f", clip.duration)) s")
    print("log-Mel:  [\(logMel.rowCount), \(logMel.frameCount)] (mels, frames) at \(config.sampleRate) Hz")
    print(String(format: "dB:       min %.2f  max %.2f  mean %.2f", values.min() ?? 0, values.max() ?? 0, mean))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
