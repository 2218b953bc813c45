import Foundation
import _AudioDSPPrefetch
import _CFFTW

/// Short-time Fourier transform of a real signal, computed like `torch.stft`.
///
/// Frames of `nFFT` samples, `hopLength` apart, weighted by a periodic Hann window
/// (`torch.hann_window(nFFT, periodic=True)`); with `center` the signal is reflect-padded by
/// `nFFT / 2` on both sides first, so frame `t` is centred on sample `t * hopLength`.
/// The FFT is FFTW's single-precision r2c, planned once per size and shared by all threads,
/// so one `STFT` may be used from any number of threads at once.
public struct STFT: Sendable {
    /// FFT size (= window length), in samples.
    public let nFFT: Int
    /// Distance between frame starts, in samples.
    public let hopLength: Int
    /// Whether the signal is reflect-padded by `nFFT / 2` on each side.
    public let center: Bool
    /// The periodic Hann window, `nFFT` values.
    public let window: [Float]

    /// Number of non-negative frequency bins, `nFFT / 2 + 1`.
    public var binCount: Int { nFFT / 2 + 1 }

    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` if `nFFT < 2` or
    ///   `hopLength < 1`.
    public init(nFFT: Int, hopLength: Int, center: Bool = true) throws(DSPError) {
        guard nFFT >= 2, nFFT <= 1 << 20 else {
            throw .invalidParameter(name: "nFFT", value: "\(nFFT)", expected: "2...1048576")
        }
        guard hopLength >= 1 else {
            throw .invalidParameter(name: "hopLength", value: "\(hopLength)", expected: ">= 1")
        }
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.center = center
        self.window = Self.periodicHann(nFFT)
        _ = RealFFTPlan.forSize(nFFT)
    }

    /// `0.5 - 0.5 cos(2πn / N)` for n in 0..<N, computed in double precision.
    public static func periodicHann(_ count: Int) -> [Float] {
        (0..<count).map { n in
            Float(0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(count)))
        }
    }

    /// The smallest signal the transform accepts: torch's reflect padding needs more samples
    /// than the pad width.
    public var minimumSampleCount: Int { center ? nFFT / 2 + 1 : nFFT }

    /// Frames produced for a signal of `sampleCount` samples (0 if it is too short).
    public func frameCount(forSampleCount sampleCount: Int) -> Int {
        guard sampleCount >= minimumSampleCount else { return 0 }
        return center ? 1 + sampleCount / hopLength : 1 + (sampleCount - nFFT) / hopLength
    }

    /// The power spectrogram `|X|^2`, shape `[nFFT / 2 + 1, frames]`.
    ///
    /// - Throws: ``DSPError/signalTooShort(samples:minimum:reason:)`` for fewer than
    ///   ``minimumSampleCount`` samples.
    public func powerSpectrogram(_ samples: [Float]) throws(DSPError) -> Spectrogram {
        try checkLength(samples.count)
        let frames = frameCount(forSampleCount: samples.count)
        var result = Spectrogram(uninitializedRows: binCount, frames: frames)
        let workspace = FFTWorkspace(size: nFFT)
        let power = UnsafeMutablePointer<Float>.allocate(capacity: binCount)
        defer { power.deallocate() }
        samples.withUnsafeBufferPointer { signal in
            result.values.withUnsafeMutableBufferPointer { out in
                for t in 0..<frames {
                    powerFrame(t, signal: signal, workspace: workspace, power: power)
                    for k in 0..<binCount { out[k * frames + t] = power[k] }
                }
            }
        }
        return result
    }

    func checkLength(_ count: Int) throws(DSPError) {
        guard count >= minimumSampleCount else {
            throw .signalTooShort(
                samples: count, minimum: minimumSampleCount,
                reason: center ? "reflect padding by nFFT/2 = \(nFFT / 2) needs more samples than that"
                               : "one frame of nFFT = \(nFFT) samples")
        }
    }

    /// Writes frame `t`'s power spectrum (`binCount` values) to `power[k * stride]`.
    /// `signal` must hold at least ``minimumSampleCount`` samples.
    @inline(__always)
    func powerFrame(_ t: Int, signal: UnsafeBufferPointer<Float>, workspace: FFTWorkspace,
                    power: UnsafeMutablePointer<Float>, stride: Int = 1) {
        let input = workspace.input
        let n = signal.count
        let start = center ? t * hopLength - nFFT / 2 : t * hopLength
        window.withUnsafeBufferPointer { w in
            let x = signal.baseAddress!
            let win = w.baseAddress!
            // Start loading the samples two frames ahead: the signal streams from memory once,
            // and without this the window loop waits for it.
            let ahead = start + nFFT + hopLength
            if ahead + hopLength <= n {
                var offset = ahead
                while offset < ahead + hopLength {
                    audiodsp_prefetch(x + offset)
                    offset += 16
                }
            }
            if start >= 0 && start + nFFT <= n {
                let src = x + start
                for i in 0..<nFFT { input[i] = src[i] * win[i] }
            } else {
                // Edge frame: torch's "reflect" mirrors about the end samples without repeating them.
                for i in 0..<nFFT {
                    var j = start + i
                    if j < 0 { j = -j }
                    if j >= n { j = 2 * (n - 1) - j }
                    input[i] = x[j] * win[i]
                }
            }
        }
        workspace.execute()
        let spectrum = workspace.outputFloats
        for k in 0..<binCount {
            let re = spectrum[2 * k], im = spectrum[2 * k + 1]
            power[k * stride] = re * re + im * im
        }
    }
}
