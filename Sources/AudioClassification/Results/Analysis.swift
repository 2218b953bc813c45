/// A 2-D array of floats, row-major: what the API calls `{"shape": [H, W], "values": [[...]]}`.
public struct Plane: Sendable, Equatable {
    /// Rows (`H`): Mel bins for the spectrogram, the feature map's height otherwise.
    public var height: Int
    /// Columns (`W`): time frames.
    public var width: Int
    /// `height * width` values, `values[row * width + column]`; always finite.
    public var values: [Float]
}

/// A named feature map reduced to one plane (the mean over its channels).
public struct FeatureMapPlane: Sendable, Equatable {
    /// The reference service's name: `conv1`, `layer{n}.block{i}.conv`, `layer{n}.block{i}.relu`, `layer{n}`.
    public var name: String
    /// The channel mean of batch item 0, NaN and infinities replaced by 0.
    public var plane: Plane
}

/// The signal the model heard, thinned for display.
public struct WaveformSummary: Sendable, Equatable {
    /// Every `step`-th sample of the resampled mono signal (`step = count / 8000` when the signal
    /// is longer than 8,000 samples, else 1), as the reference service does.
    public var values: [Float]
    /// The rate of the resampled signal, in Hz (the checkpoint's Mel rate).
    public var sampleRate: Int
    /// The length of the resampled signal, in seconds.
    public var duration: Double
}

/// Everything `POST /` returns for one clip.
public struct Analysis: Sendable {
    /// The `top` most probable classes, most probable first.
    public var predictions: [Prediction]
    /// Every feature map in forward order.
    public var featureMaps: [FeatureMapPlane]
    /// The log-Mel input `[melCount, frames]` in dB.
    public var inputSpectrogram: Plane
    /// The thinned waveform.
    public var waveform: WaveformSummary
}
