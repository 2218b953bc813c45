// AudioDSP alone: the log-Mel spectrogram of an audio file.
//   MelConsumer CLIP
import AudioDSP
import Foundation

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: MelConsumer AUDIO_FILE\n".utf8))
    exit(2)
}
do {
    let clip = try AudioFile(contentsOf: URL(fileURLWithPath: CommandLine.arguments[1]))
    let spectrogram = try MelSpectrogram(MelConfig()).logMel(clip)
    let finite = spectrogram.values.allSatisfy(\.isFinite)
    let peak = spectrogram.values.max() ?? -.infinity
    print("log-Mel \(spectrogram.rowCount) x \(spectrogram.frameCount), peak \(peak) dB, all finite: \(finite)")
    exit(finite && spectrogram.rowCount == 128 ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("MelConsumer: \(error)\n".utf8))
    exit(1)
}
