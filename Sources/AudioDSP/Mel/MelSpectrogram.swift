import Foundation

/// Mel spectrograms of mono signals, numerically as torchaudio's
/// `MelSpectrogram(sample_rate, n_fft, hop_length=hop, n_mels, f_min, f_max, power=2.0,
/// center=True, pad_mode="reflect", norm, mel_scale)` followed by `AmplitudeToDB("power", top_db)`.
///
/// Frames are transformed, squared and Mel-filtered one at a time in cache (the power spectrum
/// is never stored), and the filters are applied sparsely. A value is immutable and `Sendable`:
/// share one across threads.
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
    /// The dB conversion used by ``logMel(_:)``.
    public let toDB: AmplitudeToDB

    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` if `config` is invalid.
    public init(_ config: MelConfig = MelConfig()) throws(DSPError) {
        try config.validate()
        self.config = config
        stft = try STFT(nFFT: config.nFFT, hopLength: config.hopLength, center: true)
        filterbank = try MelFilterbank(binCount: config.nFFT / 2 + 1, sampleRate: config.sampleRate,
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

    /// Log-Mel spectrograms of many clips, computed in parallel over all cores.
    ///
    /// - Returns: one spectrogram per clip, in order.
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` naming the first clip that is
    ///   too short (checked before any work starts).
    public func logMel(batch clips: [[Float]]) throws(DSPError) -> [Spectrogram] {
        for (i, clip) in clips.enumerated() where clip.count < stft.minimumSampleCount {
            throw .signalTooShort(samples: clip.count, minimum: stft.minimumSampleCount,
                                  reason: "clip \(i) of the batch")
        }
        let results = UnsafeMutableBufferPointer<Spectrogram>.allocate(capacity: clips.count)
        defer { results.deallocate() }
        let workers = min(clips.count, ProcessInfo.processInfo.activeProcessorCount)
        let shared = UnsafeSendable(results)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let workspace = Workspace(self)
            var i = worker
            while i < clips.count {
                var spec = clips[i].withUnsafeBufferPointer { compute($0, workspace: workspace) }
                toDB.apply(to: &spec)
                (shared.value.baseAddress! + i).initialize(to: spec)
                i += workers
            }
        }
        let array = Array(results)
        results.baseAddress?.deinitialize(count: clips.count)
        return array
    }

    /// Per-thread scratch: FFT buffers and one power spectrum.
    final class Workspace {
        let fft: FFTWorkspace
        let power: UnsafeMutablePointer<Float>
        init(_ mel: MelSpectrogram) {
            fft = FFTWorkspace(size: mel.stft.nFFT)
            power = .allocate(capacity: mel.stft.binCount)
        }
        deinit { power.deallocate() }
    }

    func compute(_ signal: UnsafeBufferPointer<Float>, workspace: Workspace) -> Spectrogram {
        let frames = stft.frameCount(forSampleCount: signal.count)
        var result = Spectrogram(uninitializedRows: config.melCount, frames: frames)
        filterbank.withKernel { kernel in
            result.values.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                for t in 0..<frames {
                    stft.powerFrame(t, signal: signal, workspace: workspace.fft, power: workspace.power)
                    kernel.apply(power: workspace.power, to: base + t, stride: frames)
                }
            }
        }
        return result
    }
}

/// Hands a buffer whose disjoint elements are written by different threads to
/// `concurrentPerform`.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
