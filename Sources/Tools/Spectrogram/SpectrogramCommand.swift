import ArgumentParser
import AudioDSP
import Foundation
import TBLogger

/// `audiocnn spectrogram IN --output OUT.npy [--png OUT.png]`: the log-Mel of an audio file.
struct SpectrogramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Write the log-Mel spectrogram (dB) of an audio file as float32 .npy [mels, frames].",
        discussion: """
            Any format libsndfile reads is decoded, down-mixed to mono and resampled (libsoxr, high \
            quality) to --sample-rate before analysis. The front-end matches torchaudio's \
            MelSpectrogram(power=2, center=True, pad_mode="reflect", HTK, no norm) + AmplitudeToDB.
            """
    )

    @Argument(help: "Input audio file (WAV, FLAC, OGG, AIFF, ...).")
    var input: String

    @Option(name: .shortAndLong, help: "Output .npy file (float32, shape [mels, frames]).")
    var output: String

    @Option(help: "Analysis sample rate in Hz; the audio is resampled to it.")
    var sampleRate: Int = MelConfig().sampleRate

    @Option(help: "FFT size (window length) in samples.")
    var nFFT: Int = MelConfig().nFFT

    @Option(help: "Hop between frames in samples.")
    var hop: Int = MelConfig().hopLength

    @Option(help: "Number of Mel bands.")
    var mels: Int = MelConfig().melCount

    @Option(help: "Highest filter frequency in Hz (default: Nyquist).")
    var fMax: Double?

    @Option(help: "Also write a heat-map picture of the spectrogram to this .png file.")
    var png: String?

    func run() async throws {
        let config = MelConfig(sampleRate: sampleRate, nFFT: nFFT, hopLength: hop, melCount: mels, fMax: fMax)
        let mel = try MelSpectrogram(config)

        let clip = try AudioFile(contentsOf: URL(fileURLWithPath: input))
        let spec = try mel.logMel(clip)

        try write(NPYWriter.encode(spec.values, shape: spec.shape), to: output)
        var summary =
            "\(input): \(clip.sourceChannelCount) ch, \(clip.sampleRate) Hz, "
            + String(format: "%.2f s", clip.duration)
            + " -> \(spec.rowCount) x \(spec.frameCount) log-Mel -> \(output)"
        if let png {
            let image = HeatMap.render(spec, scale: max(1, 256 / max(spec.rowCount, 1)))
            let picture = try SummaryImage(width: image.width, height: image.height, channels: .rgb, pixels: image.rgb)
            try write(Data(picture.pngData()), to: png)
            summary += ", \(png) (\(image.width) x \(image.height))"
        }
        print(summary)
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw OutputError(description: "cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    /// An output file could not be written (the command exits with status 1).
    struct OutputError: Error, CustomStringConvertible {
        var description: String
    }
}
