import AudioDSP
import Foundation

/// The features of the reference recipe: each clip loaded at the Mel configuration's sample
/// rate, fixed to `duration` seconds, and turned into a log-Mel spectrogram (dB) of shape
/// `[melCount, frames]`.
public struct LogMelFeatures: FeatureSource {
    /// Loads, resamples and pads or crops each clip.
    public let clips: ClipLoader
    /// Computes the log-Mel spectrogram.
    public let spectrogram: MelSpectrogram

    /// Log-Mel features for `config`, over clips fixed to `duration` seconds.
    ///
    /// - Parameters:
    ///   - config: the Mel front-end.
    ///   - duration: the clip length, in seconds (padded or cropped at the end).
    ///   - clipSampleRate: the rate clips are resampled to before analysis, in Hz; `nil` (the
    ///     default) means `config.sampleRate`. A different value reproduces front-ends that label
    ///     the spectrum with another rate than the audio's: the reference PyTorch project runs
    ///     `MelSpectrogram(sample_rate=22050, f_max=11025)` on unresampled 44.1 kHz clips, which is
    ///     `config.sampleRate = 22_050, fMax = 11_025` with `clipSampleRate: 44_100` (431 frames
    ///     for 5 s; the filters then span the whole 0-22.05 kHz band on a warped Mel scale).
    ///   - quality: the resampling quality.
    /// - Throws: ``ClipLoaderError/invalidParameter(_:)`` for an invalid configuration or duration.
    public init(
        config: MelConfig = MelConfig(), duration: Double = 5, clipSampleRate: Int? = nil,
        quality: Resampler.Quality = .high
    ) throws(ClipLoaderError) {
        clips = try ClipLoader(sampleRate: clipSampleRate ?? config.sampleRate, duration: duration, quality: quality)
        do {
            spectrogram = try MelSpectrogram(config)
        } catch {
            throw .invalidParameter("Mel configuration: \(error)")
        }
    }

    /// `[melCount, frames]` for clips of ``ClipLoader/sampleCount`` samples.
    public var shape: FeatureShape {
        FeatureShape(
            mels: spectrogram.config.melCount,
            frames: spectrogram.config.frameCount(forSampleCount: clips.sampleCount))
    }

    /// Everything that shapes these features, for ``CachedFeatureSource``: the Mel configuration,
    /// the clip length and rate, and the resampling quality.
    public var cacheIdentity: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let mel =
            (try? encoder.encode(spectrogram.config)).map { String(decoding: $0, as: UTF8.self) }
            ?? String(describing: spectrogram.config)
        return "LogMelFeatures/1 mel=\(mel) samples=\(clips.sampleCount)@\(clips.sampleRate) quality=\(clips.quality.rawValue)"
    }

    /// The log-Mel spectrogram of `item`'s clip, row-major `[melCount, frames]`.
    /// - Throws: ``ClipLoaderError/undecodable(_:reason:)`` naming the file.
    public func features(of item: LoaderItem) throws -> [Float] {
        let samples = try clips.load(item.url)
        do {
            return try spectrogram.logMel(samples).values
        } catch {
            throw ClipLoaderError.undecodable(item.url, reason: "log-Mel spectrogram failed: \(error)")
        }
    }
}

extension SpecAugment: ExampleAugmentation {
    /// Applies the masks to one example of `shape` (SpecAugment for training batches).
    /// - Throws: `DSPError` for a negative mask parameter or count.
    public func apply(to features: inout [Float], shape: FeatureShape, using generator: inout SeededGenerator) throws {
        var spectrogram = try Spectrogram(rowCount: shape.mels, frameCount: shape.frames, values: features)
        try apply(to: &spectrogram, using: &generator)
        features = spectrogram.values
    }
}
