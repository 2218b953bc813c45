import AudioDSP
import Foundation

/// Turns any audio file into the fixed-length mono signal a model expects: decodes it (any
/// format libsndfile reads), averages its channels, resamples it to ``sampleRate`` and pads
/// it with silence at the end or crops its end to ``sampleCount`` samples.
public struct ClipLoader: Sendable, Hashable {
    /// The output sample rate, in Hz.
    public let sampleRate: Int
    /// The output length, in samples (`duration * sampleRate`, rounded).
    public let sampleCount: Int
    /// The resampling quality used when a file's rate differs from ``sampleRate``.
    public let quality: Resampler.Quality

    /// A loader producing `duration` seconds at `sampleRate` Hz.
    /// - Throws: ``ClipLoaderError/invalidParameter(_:)`` when the rate is outside
    ///   `AudioFile.supportedSampleRates` or the duration is not positive.
    public init(sampleRate: Int = 44_100, duration: Double = 5, quality: Resampler.Quality = .high) throws(ClipLoaderError) {
        guard AudioFile.supportedSampleRates.contains(sampleRate) else {
            throw .invalidParameter("sampleRate is \(sampleRate) Hz, expected \(AudioFile.supportedSampleRates)")
        }
        guard duration.isFinite, duration > 0 else {
            throw .invalidParameter("duration is \(duration) s, expected a positive number of seconds")
        }
        let count = (duration * Double(sampleRate)).rounded()
        guard count >= 1, count <= Double(Int32.max) else {
            throw .invalidParameter("duration \(duration) s at \(sampleRate) Hz gives \(count) samples")
        }
        self.sampleRate = sampleRate
        self.sampleCount = Int(count)
        self.quality = quality
    }

    /// The clip at `url` as exactly ``sampleCount`` mono samples at ``sampleRate``.
    /// - Throws: ``ClipLoaderError/undecodable(_:reason:)`` naming the file.
    public func load(_ url: URL) throws(ClipLoaderError) -> [Float] {
        let file: AudioFile
        do {
            file = try AudioFile(contentsOf: url)
        } catch {
            throw .undecodable(url, reason: error.description)
        }
        return try conform(file, name: url)
    }

    /// `file`'s samples resampled and padded or cropped to ``sampleCount``.
    ///
    /// A clip shorter than ``sampleCount`` is padded with silence, but a clip with no samples at
    /// all, or with a NaN or infinite sample, is refused: it would train (or be classified) as
    /// something it is not. ``SoundDataset/verify(melConfig:validationFold:progress:)`` lists
    /// such clips for a whole data set.
    /// - Throws: ``ClipLoaderError/undecodable(_:reason:)`` when the file is empty or not finite,
    ///   or resampling fails.
    public func conform(_ file: AudioFile, name: URL) throws(ClipLoaderError) -> [Float] {
        var samples = file.samples
        guard !samples.isEmpty else {
            throw .undecodable(name, reason: "the file holds no samples (a valid header and no audio)")
        }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw .undecodable(name, reason: "sample \(bad) is \(samples[bad]) (not a finite number)")
        }
        if file.sampleRate != sampleRate {
            do {
                samples = try Resampler(from: file.sampleRate, to: sampleRate, quality: quality)(samples)
            } catch {
                throw .undecodable(name, reason: "resampling \(file.sampleRate) Hz to \(sampleRate) Hz failed: \(error)")
            }
        }
        if samples.count > sampleCount {
            samples.removeLast(samples.count - sampleCount)
        } else if samples.count < sampleCount {
            samples.append(contentsOf: repeatElement(0, count: sampleCount - samples.count))
        }
        return samples
    }

    /// Decodes `url` completely, throwing a description of the problem if it cannot.
    /// The downloader's default clip check.
    @Sendable public static func checkDecodes(_ url: URL) throws {
        _ = try AudioFile(contentsOf: url)
    }
}

/// What can go wrong while loading a clip or computing its features.
public enum ClipLoaderError: Error, Equatable, CustomStringConvertible {
    /// A setting is out of range.
    case invalidParameter(String)
    /// The file could not be decoded or resampled.
    case undecodable(URL, reason: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidParameter(let detail): return "invalid clip loader setting: \(detail)"
        case .undecodable(let url, let reason): return "\(url.path): \(reason)"
        }
    }
}
