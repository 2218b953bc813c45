import Foundation
import _AudioDSPPrefetch
import _CFFTW

/// Short-time Fourier transform of a real signal, computed like `torch.stft`.
///
/// Frames of `nFFT` samples, `hopLength` apart, weighted by a periodic Hann window
/// (`torch.hann_window(nFFT, periodic=True)`); with `center` the signal is reflect-padded by
/// `nFFT / 2` on both sides first, so frame `t` is centred on sample `t * hopLength`.
/// Frames are transformed two at a time as the real and imaginary parts of one single-precision
/// complex FFTW transform (plans made once per size and shared by all threads), so one `STFT` may
/// be used from any number of threads at once.
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

    /// Plans the transform (Hann window of `nFFT` samples, FFTW plan made once).
    ///
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
        _ = FFTPlans.forSize(nFFT)
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
        let power = UnsafeMutablePointer<Float>.allocate(capacity: 2 * binCount)
        defer { power.deallocate() }
        samples.withUnsafeBufferPointer { signal in
            result.values.withUnsafeMutableBufferPointer { out in
                var t = 0
                while t < frames {
                    let count = min(2, frames - t)
                    if count == 2 {
                        powerFramePair(t, signal: signal, workspace: workspace, power: power, stride: 2)
                    } else {
                        powerFrame(t, signal: signal, workspace: workspace, power: power, stride: 2)
                    }
                    for j in 0..<count {
                        for k in 0..<binCount { out[k * frames + t + j] = power[2 * k + j] }
                    }
                    t += count
                }
            }
        }
        return result
    }

    func checkLength(_ count: Int) throws(DSPError) {
        guard count >= minimumSampleCount else {
            throw .signalTooShort(
                samples: count, minimum: minimumSampleCount,
                reason: center
                    ? "reflect padding by nFFT/2 = \(nFFT / 2) needs more samples than that"
                    : "one frame of nFFT = \(nFFT) samples")
        }
    }

    /// Writes frame `t`, windowed, to `destination[i * stride]` and returns its energy (NaN for an
    /// interior frame written with stride 1, where no caller needs it).
    /// `signal` must hold at least ``minimumSampleCount`` samples.
    @inline(__always)
    func windowFrame(
        _ t: Int, signal: UnsafeBufferPointer<Float>, into destination: UnsafeMutablePointer<Float>,
        stride: Int
    ) -> Float {
        let n = signal.count
        let start = center ? t * hopLength - nFFT / 2 : t * hopLength
        var energy: Float = 0
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
                if stride == 1 {
                    // The common single-frame case: a plain loop the compiler vectorises
                    // (the energy is only needed by pairs).
                    for i in 0..<nFFT { destination[i] = src[i] * win[i] }
                    energy = .nan
                } else {
                    for i in 0..<nFFT {
                        let v = src[i] * win[i]
                        destination[i * stride] = v
                        energy += v * v
                    }
                }
            } else {
                // Edge frame: torch's "reflect" mirrors about the end samples without repeating them.
                for i in 0..<nFFT {
                    var j = start + i
                    if j < 0 { j = -j }
                    if j >= n { j = 2 * (n - 1) - j }
                    let v = x[j] * win[i]
                    destination[i * stride] = v
                    energy += v * v
                }
            }
        }
        return energy
    }

    /// Writes frame `t`'s power spectrum (`binCount` values) to `power[k * stride]`.
    @inline(__always)
    func powerFrame(
        _ t: Int, signal: UnsafeBufferPointer<Float>, workspace: FFTWorkspace,
        power: UnsafeMutablePointer<Float>, stride: Int = 1
    ) {
        _ = windowFrame(t, signal: signal, into: workspace.input, stride: 1)
        workspace.execute()
        let spectrum = workspace.output
        for k in 0..<binCount {
            let re = spectrum[2 * k], im = spectrum[2 * k + 1]
            power[k * stride] = re * re + im * im
        }
    }

    /// Frames whose energies differ by more than this (40 dB) are not transformed as a pair:
    /// the quieter one would inherit round-off at the louder one's level.
    static let pairEnergyRatio: Float = 1e4

    /// Writes the power spectra of frames `t` and `t + 1` to `power[k * stride]` and
    /// `power[k * stride + 1]`.
    ///
    /// Both real frames go through one complex FFT as real and imaginary parts, `z = a + ib`,
    /// and are separated with `A[k] = (Z[k] + Z*[N-k]) / 2`, `B[k] = (Z[k] - Z*[N-k]) / 2i`:
    /// FFTW's complex transform of size N runs ~1.9x faster than two real ones here.
    @inline(__always)
    func powerFramePair(
        _ t: Int, signal: UnsafeBufferPointer<Float>, workspace: FFTWorkspace,
        power: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let (ea, eb) = windowPair(t, signal: signal, into: workspace.pairInput)
        if ea > Self.pairEnergyRatio * eb || eb > Self.pairEnergyRatio * ea {
            powerFrame(t, signal: signal, workspace: workspace, power: power, stride: stride)
            powerFrame(t + 1, signal: signal, workspace: workspace, power: power + 1, stride: stride)
            return
        }
        workspace.executePair()
        let z = workspace.pairOutput
        let n = nFFT
        @inline(__always) func separate(_ k: Int) {
            let r = k == 0 ? 0 : n - k
            let zr = z[2 * k], zi = z[2 * k + 1], wr = z[2 * r], wi = z[2 * r + 1]
            let ar = zr + wr, ai = zi - wi, br = zi + wi, bi = zr - wr
            power[k * stride] = 0.25 * (ar * ar + ai * ai)
            power[k * stride + 1] = 0.25 * (br * br + bi * bi)
        }
        separate(0)
        // Four bins at a time: Z[k..<k+4] forwards and Z[N-k-3...N-k] backwards.
        let raw = UnsafeRawPointer(z)
        var k = 1
        while k + 4 <= binCount - 1 {
            let zv = raw.loadUnaligned(fromByteOffset: 8 * k, as: SIMD8<Float>.self)
            let wv = raw.loadUnaligned(fromByteOffset: 8 * (n - k - 3), as: SIMD8<Float>.self)
            let zr = SIMD4(zv[0], zv[2], zv[4], zv[6]), zi = SIMD4(zv[1], zv[3], zv[5], zv[7])
            let wr = SIMD4(wv[6], wv[4], wv[2], wv[0]), wi = SIMD4(wv[7], wv[5], wv[3], wv[1])
            let ar = zr + wr, ai = zi - wi, br = zi + wi, bi = zr - wr
            let pa = 0.25 * (ar * ar + ai * ai), pb = 0.25 * (br * br + bi * bi)
            for i in 0..<4 {
                UnsafeMutableRawPointer(power + (k + i) * stride).storeBytes(of: SIMD2(pa[i], pb[i]), as: SIMD2<Float>.self)
            }
            k += 4
        }
        while k < binCount {
            separate(k)
            k += 1
        }
    }

    /// Writes frames `t` and `t + 1`, windowed, interleaved into `destination` (as the real and
    /// imaginary parts of one complex signal) and returns their energies.
    @inline(__always)
    func windowPair(
        _ t: Int, signal: UnsafeBufferPointer<Float>,
        into destination: UnsafeMutablePointer<Float>
    ) -> (Float, Float) {
        let n = signal.count
        let start = center ? t * hopLength - nFFT / 2 : t * hopLength
        guard start >= 0, start + hopLength + nFFT <= n, nFFT % 4 == 0 else {
            return (
                windowFrame(t, signal: signal, into: destination, stride: 2),
                windowFrame(t + 1, signal: signal, into: destination + 1, stride: 2)
            )
        }
        let x = signal.baseAddress!
        // Start loading the samples two pairs ahead (see windowFrame).
        let ahead = start + nFFT + 3 * hopLength
        if ahead + 2 * hopLength <= n {
            var offset = ahead
            while offset < ahead + 2 * hopLength {
                audiodsp_prefetch(x + offset)
                offset += 16
            }
        }
        let a = UnsafeRawPointer(x + start), b = UnsafeRawPointer(x + start + hopLength)
        let out = UnsafeMutableRawPointer(destination)
        var ea = SIMD4<Float>(), eb = SIMD4<Float>()
        window.withUnsafeBufferPointer { w in
            let win = UnsafeRawPointer(w.baseAddress!)
            var i = 0
            while i < nFFT {
                let wv = win.loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Float>.self)
                let va = a.loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Float>.self) * wv
                let vb = b.loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Float>.self) * wv
                ea += va * va
                eb += vb * vb
                out.storeBytes(of: SIMD4(va[0], vb[0], va[1], vb[1]), toByteOffset: 8 * i, as: SIMD4<Float>.self)
                out.storeBytes(of: SIMD4(va[2], vb[2], va[3], vb[3]), toByteOffset: 8 * i + 16, as: SIMD4<Float>.self)
                i += 4
            }
        }
        return (ea.sum(), eb.sum())
    }
}
