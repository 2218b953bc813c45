/// Triangular Mel filters over the bins of a real FFT, exactly as torchaudio's
/// `torchaudio.functional.melscale_fbanks`.
///
/// Bin `k` sits at `k * (sampleRate / 2) / (binCount - 1)` Hz, with torchaudio's integer
/// `sampleRate / 2`. Filter `m` rises from Mel point `m` to `m + 1` and falls to `m + 2`, the
/// `melCount + 2` points being evenly spaced in Mel between `fMin` and `fMax`.
public struct MelFilterbank: Sendable, Equatable {
    /// Number of FFT bins the filters read (`nFFT / 2 + 1`).
    public let binCount: Int
    /// Number of Mel bands.
    public let melCount: Int
    /// The filters, row-major `[binCount, melCount]` like torchaudio's `fb` (`power @ fb`).
    public let matrix: [Float]

    /// Each band's non-zero weights, contiguous from its first bin: the filters overlap only
    /// their neighbours, so applying them sparsely costs ~2 multiply-adds per bin instead of
    /// `melCount`. Band `m` reads bins `firstBin[m]...` with weights
    /// `weights[offset[m]..<offset[m + 1]]`.
    let firstBin: [Int]
    let offset: [Int]
    let weights: [Float]

    /// Builds the filterbank.
    ///
    /// - Parameters:
    ///   - binCount: FFT bins, `nFFT / 2 + 1`.
    ///   - sampleRate: in Hz.
    ///   - melCount: number of bands.
    ///   - fMin: lowest filter edge, in Hz, `0 <= fMin < fMax`.
    ///   - fMax: highest filter edge, in Hz, at most `sampleRate / 2`.
    ///   - scale: the Hz-to-Mel formula (`.htk`, torchaudio's default, or `.slaney`).
    ///   - norm: band normalisation (`.none`, or `.slaney` for equal area).
    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` naming the bad argument.
    public init(
        binCount: Int, sampleRate: Int, melCount: Int, fMin: Double, fMax: Double,
        scale: MelScale = .htk, norm: MelNorm = .none
    ) throws(DSPError) {
        guard binCount >= 2 else {
            throw .invalidParameter(name: "binCount", value: "\(binCount)", expected: ">= 2")
        }
        guard sampleRate > 0 else {
            throw .invalidParameter(name: "sampleRate", value: "\(sampleRate)", expected: "> 0 Hz")
        }
        guard melCount >= 1 else {
            throw .invalidParameter(name: "melCount", value: "\(melCount)", expected: ">= 1")
        }
        let nyquist = Double(sampleRate / 2)
        guard fMax.isFinite, fMax > 0, fMax <= Double(sampleRate) / 2 else {
            throw .invalidParameter(name: "fMax", value: "\(fMax)", expected: "0 < fMax <= sampleRate / 2 = \(Double(sampleRate) / 2) Hz")
        }
        guard fMin.isFinite, fMin >= 0, fMin < fMax else {
            throw .invalidParameter(name: "fMin", value: "\(fMin)", expected: "0 <= fMin < fMax = \(fMax) Hz")
        }
        self.binCount = binCount
        self.melCount = melCount

        let binHz = (0..<binCount).map { nyquist * Double($0) / Double(binCount - 1) }
        let melMin = scale.mel(fromHertz: fMin), melMax = scale.mel(fromHertz: fMax)
        let points = (0..<(melCount + 2)).map { i in
            scale.hertz(fromMel: melMin + (melMax - melMin) * Double(i) / Double(melCount + 1))
        }
        var matrix = [Float](repeating: 0, count: binCount * melCount)
        var firstBins = [Int](), offsets = [0], flat = [Float]()
        for m in 0..<melCount {
            let lower = points[m], centre = points[m + 1], upper = points[m + 2]
            let enorm = norm == .slaney ? 2 / (upper - lower) : 1
            var first = -1
            var weights = [Float]()
            for k in 0..<binCount {
                let down = (binHz[k] - lower) / (centre - lower)
                let up = (upper - binHz[k]) / (upper - centre)
                let w = max(0, min(down, up)) * enorm
                guard w > 0 else { continue }
                if first < 0 { first = k }
                // Triangles are convex, so non-zero weights are contiguous: fill any gap left by
                // rounding with explicit zeros.
                while first + weights.count < k { weights.append(0) }
                weights.append(Float(w))
                matrix[k * melCount + m] = Float(w)
            }
            firstBins.append(max(first, 0))
            flat += weights
            offsets.append(flat.count)
        }
        self.matrix = matrix
        self.firstBin = firstBins
        self.offset = offsets
        self.weights = flat
    }

    /// The weight of bin `bin` in band `mel`.
    public subscript(bin bin: Int, mel mel: Int) -> Float { matrix[bin * melCount + mel] }

    /// Bands whose weights are all zero (too many Mel bands for the FFT resolution); torchaudio
    /// warns about these, and they always output zero power.
    public var emptyBands: [Int] { (0..<melCount).filter { offset[$0] == offset[$0 + 1] } }

    /// Runs `body` with raw views of the sparse bands (no ARC traffic in per-frame loops).
    func withKernel<R>(_ body: (Kernel) throws -> R) rethrows -> R {
        try firstBin.withUnsafeBufferPointer { first in
            try offset.withUnsafeBufferPointer { offset in
                try weights.withUnsafeBufferPointer { weights in
                    try body(
                        Kernel(
                            melCount: melCount, firstBin: first.baseAddress!,
                            offset: offset.baseAddress!, weights: weights.baseAddress ?? UnsafePointer(bitPattern: 16)!))
                }
            }
        }
    }

    struct Kernel {
        let melCount: Int
        let firstBin: UnsafePointer<Int>
        let offset: UnsafePointer<Int>
        let weights: UnsafePointer<Float>

        /// Mel power of a block of up to 8 frames whose spectra are interleaved in `power`
        /// (`power[k][j]` = bin `k` of frame `j`): `out[m * stride + j] = Σ_k power[k][j] * fb[k, m]`
        /// for `j < lanes`.
        @inline(__always)
        func apply(power: UnsafePointer<SIMD8<Float>>, to out: UnsafeMutablePointer<Float>, stride: Int, lanes: Int) {
            for m in 0..<melCount {
                let p = power + firstBin[m]
                let w = weights + offset[m]
                let count = offset[m + 1] - offset[m]
                var acc = SIMD8<Float>()
                for i in 0..<count { acc += w[i] * p[i] }
                let row = out + m * stride
                if lanes == 8 {
                    UnsafeMutableRawPointer(row).storeBytes(of: acc, as: SIMD8<Float>.self)
                } else {
                    for j in 0..<lanes { row[j] = acc[j] }
                }
            }
        }
    }
}
