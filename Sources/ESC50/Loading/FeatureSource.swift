import Foundation

/// One example for a ``DataLoader``: a clip file and its label.
public struct LoaderItem: Sendable, Hashable {
    /// The clip's audio file.
    public var url: URL
    /// The class index, in `0..<classCount`.
    public var label: Int
    /// Where the item came from, for error messages (e.g. `meta/esc50.csv:17`); may be empty.
    public var origin: String

    /// Creates an item.
    public init(url: URL, label: Int, origin: String = "") {
        self.url = url
        self.label = label
        self.origin = origin
    }
}

/// The shape of one example's features: `mels` rows (frequency) by `frames` columns (time).
public struct FeatureShape: Sendable, Hashable, CustomStringConvertible {
    /// The number of Mel bands.
    public var mels: Int
    /// The number of time frames.
    public var frames: Int
    /// `mels * frames`.
    public var count: Int { mels * frames }

    /// Creates a shape.
    public init(mels: Int, frames: Int) {
        self.mels = mels
        self.frames = frames
    }

    /// `"<mels>x<frames>"`, as used in messages and cache keys.
    public var description: String { "\(mels)x\(frames)" }
}

/// Computes the features of one item, e.g. decoding a clip and taking its log-Mel spectrogram.
///
/// A ``DataLoader`` calls it from background threads, several at once when it has several
/// workers, so implementations must be thread-safe.
public protocol FeatureSource: Sendable {
    /// The shape of every example this source produces.
    var shape: FeatureShape { get }
    /// The features of `item`: `shape.count` floats, row-major `[mels, frames]`.
    /// - Throws: whatever stops the item being read; the loader reports it with the item.
    func features(of item: LoaderItem) throws -> [Float]
}

/// A per-example augmentation applied by the loader to training examples only (e.g.
/// SpecAugment's masks), after the features are computed or read from the cache.
public protocol ExampleAugmentation: Sendable {
    /// Augments one example of `shape` in place, drawing randomness only from `generator` (the
    /// loader seeds it per example and epoch, which keeps runs reproducible).
    /// - Throws: when the augmentation is misconfigured; the loader reports it with the item.
    func apply(to features: inout [Float], shape: FeatureShape, using generator: inout SeededGenerator) throws
}
