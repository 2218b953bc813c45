/// Everything that defines a log-Mel front-end, as one value a checkpoint can store.
///
/// The defaults are the suite's ESC-50 setting and torchaudio's `MelSpectrogram` defaults where
/// they overlap: 44,100 Hz, `nFFT` 1024, hop 512, 128 HTK Mel bands from 0 Hz to Nyquist, no
/// filter normalisation, power spectrum, dB with `amin` 1e-10 and no `topDB`. A 5-second clip
/// gives 128 x 431 frames.
///
/// Decoding a stored config fills keys it does not contain with these defaults, so configs
/// written by older versions keep loading.
public struct MelConfig: Codable, Sendable, Hashable {
    /// Rate the audio is resampled to before analysis, in Hz.
    public var sampleRate: Int = 44_100
    /// FFT size and window length, in samples.
    public var nFFT: Int = 1024
    /// Hop between frames, in samples.
    public var hopLength: Int = 512
    /// Number of Mel bands (spectrogram rows).
    public var melCount: Int = 128
    /// Lowest filter edge, in Hz.
    public var fMin: Double = 0
    /// Highest filter edge, in Hz; `nil` means Nyquist (`sampleRate / 2`, integer division as
    /// torchaudio does).
    public var fMax: Double? = nil
    /// Mel scale formula.
    public var melScale: MelScale = .htk
    /// Filter normalisation.
    public var norm: MelNorm = .none
    /// If set, dB values are floored at `max - topDB` per spectrogram.
    public var topDB: Double? = nil

    /// The default configuration.
    public init() {}

    /// A configuration; omitted arguments take the defaults above.
    public init(
        sampleRate: Int = 44_100, nFFT: Int = 1024, hopLength: Int = 512, melCount: Int = 128,
        fMin: Double = 0, fMax: Double? = nil, melScale: MelScale = .htk, norm: MelNorm = .none,
        topDB: Double? = nil
    ) {
        self.sampleRate = sampleRate
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.melCount = melCount
        self.fMin = fMin
        self.fMax = fMax
        self.melScale = melScale
        self.norm = norm
        self.topDB = topDB
    }

    /// `fMax`, or Nyquist when it is `nil`.
    public var resolvedFMax: Double { fMax ?? Double(sampleRate / 2) }

    /// Frames for a clip of `sampleCount` samples (`1 + sampleCount / hopLength`, centred STFT).
    public func frameCount(forSampleCount sampleCount: Int) -> Int { 1 + sampleCount / hopLength }

    /// Checks every field.
    ///
    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` naming the first bad field.
    public func validate() throws(DSPError) {
        let rates = AudioFile.supportedSampleRates
        guard rates.contains(sampleRate) else {
            throw .invalidParameter(
                name: "sampleRate", value: "\(sampleRate)",
                expected: "\(rates.lowerBound)...\(rates.upperBound) Hz")
        }
        guard nFFT >= 16, nFFT <= 65_536 else {
            throw .invalidParameter(name: "nFFT", value: "\(nFFT)", expected: "16...65536 samples")
        }
        guard hopLength >= 1, hopLength <= nFFT else {
            throw .invalidParameter(name: "hopLength", value: "\(hopLength)", expected: "1...nFFT (\(nFFT)) samples")
        }
        guard melCount >= 1, melCount <= nFFT / 2 + 1 else {
            throw .invalidParameter(name: "melCount", value: "\(melCount)", expected: "1...nFFT/2+1 (\(nFFT / 2 + 1))")
        }
        if let topDB, !(topDB.isFinite && topDB > 0) {
            throw .invalidParameter(name: "topDB", value: "\(topDB)", expected: "a positive number of dB, or nil")
        }
        // fMin/fMax are checked by MelFilterbank with the same names.
        _ = try MelFilterbank(binCount: 2, sampleRate: sampleRate, melCount: 1, fMin: fMin, fMax: resolvedFMax)
    }

    private enum CodingKeys: String, CodingKey {
        case sampleRate, nFFT, hopLength, melCount, fMin, fMax, melScale, norm, topDB
    }

    /// Decodes a config, taking defaults for missing keys.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sampleRate = try c.decodeIfPresent(Int.self, forKey: .sampleRate) ?? sampleRate
        nFFT = try c.decodeIfPresent(Int.self, forKey: .nFFT) ?? nFFT
        hopLength = try c.decodeIfPresent(Int.self, forKey: .hopLength) ?? hopLength
        melCount = try c.decodeIfPresent(Int.self, forKey: .melCount) ?? melCount
        fMin = try c.decodeIfPresent(Double.self, forKey: .fMin) ?? fMin
        fMax = try c.decodeIfPresent(Double.self, forKey: .fMax)
        melScale = try c.decodeIfPresent(MelScale.self, forKey: .melScale) ?? melScale
        norm = try c.decodeIfPresent(MelNorm.self, forKey: .norm) ?? norm
        topDB = try c.decodeIfPresent(Double.self, forKey: .topDB)
    }
}
