import Foundation

/// Mel spectrograms of mono signals, numerically as torchaudio's
/// `MelSpectrogram(sample_rate, n_fft, hop_length=hop, n_mels, f_min, f_max, power=2.0,
/// center=True, pad_mode="reflect", norm, mel_scale)` followed by `AmplitudeToDB("power", top_db)`.
///
/// Frames are transformed and squared in blocks of eight that stay in cache (the full power
/// spectrogram is never stored), then Mel-filtered together, one SIMD lane per frame, with only
/// the non-zero filter weights. A value is immutable and `Sendable`: share one across threads.
///
/// ```swift
/// let mel = try MelSpectrogram(MelConfig())
/// let logMel = try mel.logMel(clip.samples)       // [128, frames] in dB
/// let batch = try mel.logMel(batch: clips)         // spread over all cores
/// ```
public struct MelSpectrogram: Sendable {
    /// The configuration this front-end implements.
    public let config: MelConfig
    /// The underlying transform.
    public let stft: STFT
    /// The Mel filters.
    public let filterbank: MelFilterbank
    /// The dB conversion used by ``logMel(_:)-([Float])``.
    public let toDB: AmplitudeToDB

    /// Builds the STFT, filterbank and dB conversion for `config`.
    ///
    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` if `config` is invalid.
    public init(_ config: MelConfig = MelConfig()) throws(DSPError) {
        try config.validate()
        self.config = config
        stft = try STFT(nFFT: config.nFFT, hopLength: config.hopLength, center: true)
        filterbank = try MelFilterbank(
            binCount: config.nFFT / 2 + 1, sampleRate: config.sampleRate,
            melCount: config.melCount, fMin: config.fMin,
            fMax: config.resolvedFMax, scale: config.melScale, norm: config.norm)
        toDB = AmplitudeToDB(topDB: config.topDB.map(Float.init))
    }

    /// The Mel power spectrogram of `samples` (at `config.sampleRate`), shape `[melCount, frames]`.
    ///
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` for fewer than
    ///   `nFFT / 2 + 1` samples.
    public func callAsFunction(_ samples: [Float]) throws(DSPError) -> Spectrogram {
        try stft.checkLength(samples.count)
        let workspace = Workspace(self)
        return samples.withUnsafeBufferPointer { compute($0, workspace: workspace) }
    }

    /// The log-Mel spectrogram of `samples` in dB, shape `[melCount, frames]`.
    ///
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` for fewer than
    ///   `nFFT / 2 + 1` samples.
    public func logMel(_ samples: [Float]) throws(DSPError) -> Spectrogram {
        var result = try self(samples)
        toDB.apply(to: &result)
        return result
    }

    /// The log-Mel spectrogram of a decoded clip, resampled first (libsoxr, high quality) if its
    /// rate differs from `config.sampleRate`.
    ///
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` if the (resampled) clip is
    ///   too short; ``DSPError/invalidParameter(name:value:expected:)`` if its rate cannot be
    ///   converted.
    public func logMel(_ clip: AudioFile) throws(DSPError) -> Spectrogram {
        if clip.sampleRate == config.sampleRate { return try logMel(clip.samples) }
        return try logMel(Resampler(from: clip.sampleRate, to: config.sampleRate)(clip.samples))
    }

    /// Log-Mel spectrograms of many clips, computed in parallel over all cores.
    ///
    /// - Returns: one spectrogram per clip, in order.
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` naming the first clip that is
    ///   too short (checked before any work starts).
    public func logMel(batch clips: [[Float]]) throws(DSPError) -> [Spectrogram] {
        for (i, clip) in clips.enumerated() where clip.count < stft.minimumSampleCount {
            throw .signalTooShort(
                samples: clip.count, minimum: stft.minimumSampleCount,
                reason: "clip \(i) of the batch")
        }
        let results = UnsafeMutableBufferPointer<Spectrogram>.allocate(capacity: clips.count)
        defer { results.deallocate() }
        let shared = UnsafeSendable(results)
        // One iteration per clip (not per core) keeps both cores busy to the end of the batch;
        // the per-clip scratch is ~8 KB.
        DispatchQueue.concurrentPerform(iterations: clips.count) { i in
            let workspace = Workspace(self)
            var spec = clips[i].withUnsafeBufferPointer { compute($0, workspace: workspace) }
            toDB.apply(to: &spec)
            (shared.value.baseAddress! + i).initialize(to: spec)
        }
        let array = Array(results)
        results.baseAddress?.deinitialize(count: clips.count)
        return array
    }

    /// Log-Mel spectrograms of equal-length clips, computed over all cores straight into one
    /// contiguous buffer laid out `[clips.count, melCount, frames]`: the layout of a CNN input
    /// batch `[N, 1, H, W]`, with no per-clip allocation.
    ///
    /// - Parameters:
    ///   - clips: signals of identical length at `config.sampleRate`.
    ///   - output: exactly `clips.count * melCount * frames` floats, where `frames` is
    ///     `config.frameCount(forSampleCount: clips[0].count)`.
    /// - Throws: ``DSPError/shapeMismatch(expected:got:)`` if the clips differ in length or
    ///   `output` has the wrong size; ``DSPError/signalTooShort(samples:minimum:reason:)`` if the
    ///   clips are too short.
    public func logMel(batch clips: [[Float]], into output: UnsafeMutableBufferPointer<Float>) throws(DSPError) {
        guard let length = clips.first?.count else {
            guard output.isEmpty else { throw .shapeMismatch(expected: "an empty output for no clips", got: "\(output.count) floats") }
            return
        }
        if let i = clips.firstIndex(where: { $0.count != length }) {
            throw .shapeMismatch(expected: "clips of \(length) samples (as clip 0)", got: "\(clips[i].count) samples in clip \(i)")
        }
        try stft.checkLength(length)
        let frames = stft.frameCount(forSampleCount: length)
        let perClip = config.melCount * frames
        guard output.count == clips.count * perClip else {
            throw .shapeMismatch(
                expected: "\(clips.count) x \(config.melCount) x \(frames) = \(clips.count * perClip) floats",
                got: "\(output.count) floats")
        }
        let shared = UnsafeSendable(output)
        DispatchQueue.concurrentPerform(iterations: clips.count) { i in
            let workspace = Workspace(self)
            let out = UnsafeMutableBufferPointer(rebasing: shared.value[(i * perClip)..<((i + 1) * perClip)])
            clips[i].withUnsafeBufferPointer { compute($0, into: out.baseAddress!, frames: frames, workspace: workspace) }
            toDB.apply(to: out)
        }
    }

    /// Frames transformed before their Mel bands are computed together, one SIMD lane each.
    static let frameBlock = 8

    /// Per-thread scratch: FFT buffers and the power spectra of one block of frames,
    /// interleaved `[binCount][frameBlock]` so a band sums whole SIMD vectors.
    final class Workspace {
        let fft: FFTWorkspace
        let power: UnsafeMutablePointer<SIMD8<Float>>
        let binCount: Int
        init(_ mel: MelSpectrogram) {
            fft = FFTWorkspace(size: mel.stft.nFFT)
            binCount = mel.stft.binCount
            power = .allocate(capacity: binCount)
            power.initialize(repeating: SIMD8(), count: binCount)
        }
        deinit { power.deallocate() }
    }

    func compute(_ signal: UnsafeBufferPointer<Float>, workspace: Workspace) -> Spectrogram {
        let frames = stft.frameCount(forSampleCount: signal.count)
        var result = Spectrogram(uninitializedRows: config.melCount, frames: frames)
        result.values.withUnsafeMutableBufferPointer { out in
            compute(signal, into: out.baseAddress!, frames: frames, workspace: workspace)
        }
        return result
    }

    /// Mel power of `signal` into `out`, `[melCount, frames]` row-major.
    func compute(
        _ signal: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>, frames: Int,
        workspace: Workspace
    ) {
        let block = Self.frameBlock
        let power = UnsafeMutableRawPointer(workspace.power).assumingMemoryBound(to: Float.self)
        filterbank.withKernel { kernel in
            var t0 = 0
            while t0 < frames {
                let lanes = min(block, frames - t0)
                var j = 0
                while j + 1 < lanes {
                    stft.powerFramePair(t0 + j, signal: signal, workspace: workspace.fft, power: power + j, stride: block)
                    j += 2
                }
                if j < lanes {
                    stft.powerFrame(t0 + j, signal: signal, workspace: workspace.fft, power: power + j, stride: block)
                }
                kernel.apply(power: workspace.power, to: out + t0, stride: frames, lanes: lanes)
                t0 += block
            }
        }
    }
}

/// Hands a buffer whose disjoint elements are written by different threads to
/// `concurrentPerform`.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
