/// SpecAugment masking (Park et al. 2019) with torchaudio's `FrequencyMasking` /
/// `TimeMasking` semantics (`iid_masks=False`, `p=1`).
///
/// For each mask: width `w = U(0, 1) * param` (continuous), start `s = U(0, 1) * (size - w)`;
/// rows (or frames) `Int(s) ..< Int(s) + Int(w)` are set to the mask value, so the masked width
/// is uniform over `0 ..< param`. Random draws come from the generator you pass in, so a seeded
/// ``SplitMix64`` makes runs reproducible.
public struct SpecAugment: Sendable, Equatable, Codable {
    /// What masked cells are set to.
    public enum MaskValue: Sendable, Equatable, Codable {
        /// A constant (torchaudio's `mask_value`, 0 by default).
        case constant(Float)
        /// The mean of the spectrogram before masking.
        case mean
    }

    /// Maximum frequency-mask width, in Mel bands (torchaudio `freq_mask_param`).
    public var frequencyMaskParameter: Int
    /// Maximum time-mask width, in frames (torchaudio `time_mask_param`).
    public var timeMaskParameter: Int
    /// Number of frequency masks applied.
    public var frequencyMaskCount: Int
    /// Number of time masks applied.
    public var timeMaskCount: Int
    /// The masked value.
    public var maskValue: MaskValue

    /// Creates the masking policy (torchaudio's `FrequencyMasking` and `TimeMasking`).
    ///
    /// - Parameters:
    ///   - frequencyMaskParameter: maximum frequency-mask width in bands (default 30).
    ///   - timeMaskParameter: maximum time-mask width in frames (default 80).
    ///   - frequencyMaskCount: frequency masks per call (default 1).
    ///   - timeMaskCount: time masks per call (default 1).
    ///   - maskValue: `.constant(0)` (default) or `.mean`.
    public init(
        frequencyMaskParameter: Int = 30, timeMaskParameter: Int = 80,
        frequencyMaskCount: Int = 1, timeMaskCount: Int = 1,
        maskValue: MaskValue = .constant(0)
    ) {
        self.frequencyMaskParameter = frequencyMaskParameter
        self.timeMaskParameter = timeMaskParameter
        self.frequencyMaskCount = frequencyMaskCount
        self.timeMaskCount = timeMaskCount
        self.maskValue = maskValue
    }

    /// A half-open range of rows or frames to mask.
    public typealias Mask = Range<Int>

    /// Draws one mask over an axis of `size` entries, exactly as torchaudio's `mask_along_axis`.
    public static func drawMask<G: RandomNumberGenerator>(
        parameter: Int, size: Int,
        using generator: inout G
    ) -> Mask {
        let width = Double.random(in: 0..<1, using: &generator) * Double(parameter)
        let start = Double.random(in: 0..<1, using: &generator) * (Double(size) - width)
        // torch's `.long()` truncates toward zero; the end is start + trunc(width), not trunc(s + w).
        let lower = Int(start), upper = Int(start) + Int(width)
        return max(0, min(lower, size))..<max(0, min(upper, size))
    }

    /// Applies the masks to `spectrogram` (`[rows, frames]`) in place and returns them.
    ///
    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` for a negative parameter or
    ///   count.
    @discardableResult
    public func apply<G: RandomNumberGenerator>(
        to spectrogram: inout Spectrogram,
        using generator: inout G
    ) throws(DSPError)
        -> (frequency: [Mask], time: [Mask])
    {
        let rows = spectrogram.rowCount, frames = spectrogram.frameCount
        return try spectrogram.values.withUnsafeMutableBufferPointer { values throws(DSPError) in
            try apply(to: values, rowCount: rows, frameCount: frames, using: &generator)
        }
    }

    /// Applies the masks in place to one `[rowCount, frameCount]` row-major plane, such as one
    /// clip's slice of the buffer filled by ``MelSpectrogram/logMel(batch:into:)``.
    ///
    /// - Throws: ``DSPError/shapeMismatch(expected:got:)`` if `values.count` is not
    ///   `rowCount * frameCount`; ``DSPError/invalidParameter(name:value:expected:)`` for a
    ///   negative parameter or count.
    @discardableResult
    public func apply<G: RandomNumberGenerator>(
        to values: UnsafeMutableBufferPointer<Float>, rowCount: Int,
        frameCount: Int, using generator: inout G
    ) throws(DSPError)
        -> (frequency: [Mask], time: [Mask])
    {
        for (name, value) in [
            ("frequencyMaskParameter", frequencyMaskParameter),
            ("timeMaskParameter", timeMaskParameter),
            ("frequencyMaskCount", frequencyMaskCount),
            ("timeMaskCount", timeMaskCount),
        ] where value < 0 {
            throw .invalidParameter(name: name, value: "\(value)", expected: ">= 0")
        }
        let rows = rowCount, frames = frameCount
        guard rows >= 0, frames >= 0, values.count == rows * frames else {
            throw .shapeMismatch(
                expected: "\(rowCount) x \(frameCount) = \(rowCount * frameCount) values",
                got: "\(values.count) values")
        }
        let fill: Float
        switch maskValue {
        case .constant(let v): fill = v
        case .mean:
            var sum = 0.0
            for v in values { sum += Double(v) }
            fill = values.isEmpty ? 0 : Float(sum / Double(values.count))
        }
        var frequencyMasks = [Mask](), timeMasks = [Mask]()
        for _ in 0..<frequencyMaskCount {
            frequencyMasks.append(Self.drawMask(parameter: frequencyMaskParameter, size: rows, using: &generator))
        }
        for _ in 0..<timeMaskCount {
            timeMasks.append(Self.drawMask(parameter: timeMaskParameter, size: frames, using: &generator))
        }
        for mask in frequencyMasks {
            for r in mask { for t in 0..<frames { values[r * frames + t] = fill } }
        }
        for mask in timeMasks {
            for r in 0..<rows { for t in mask { values[r * frames + t] = fill } }
        }
        return (frequencyMasks, timeMasks)
    }
}
