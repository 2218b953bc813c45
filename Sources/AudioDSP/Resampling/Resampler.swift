import Foundation
import _CSoxr

/// Sample-rate conversion with libsoxr, the engine behind librosa's default `res_type="soxr_hq"`.
///
/// The output has `ceil(count * outputRate / inputRate)` samples, as `librosa.resample` returns
/// (soxr's filter delay is compensated, so the output is time-aligned with the input).
public struct Resampler: Sendable, Equatable {
    /// libsoxr quality recipes.
    public enum Quality: String, Codable, Sendable, CaseIterable {
        /// 16-bit, medium roll-off (`SOXR_MQ`).
        case medium
        /// 20-bit (`SOXR_HQ`), librosa's default.
        case high
        /// 28-bit (`SOXR_VHQ`).
        case veryHigh

        var recipe: UInt {
            switch self {
            case .medium: return UInt(SOXR_MQ)
            case .high: return UInt(SOXR_20_BITQ)
            case .veryHigh: return UInt(SOXR_28_BITQ)
            }
        }
    }

    /// Input rate, in Hz.
    public let inputRate: Int
    /// Output rate, in Hz.
    public let outputRate: Int
    /// Filter quality.
    public let quality: Quality

    /// The largest supported up- or down-sampling factor; beyond it a rate is almost certainly a
    /// unit mistake (kHz for Hz), and the output buffer would be absurdly large.
    public static let maximumRatio = 256.0

    /// Creates a resampler from `inputRate` to `outputRate` Hz (libsoxr).
    ///
    /// - Throws: ``DSPError/invalidParameter(name:value:expected:)`` for a non-positive rate or
    ///   a ratio beyond ``maximumRatio``.
    public init(from inputRate: Int, to outputRate: Int, quality: Quality = .high) throws(DSPError) {
        guard inputRate > 0 else {
            throw .invalidParameter(name: "inputRate", value: "\(inputRate)", expected: "> 0 Hz")
        }
        guard outputRate > 0 else {
            throw .invalidParameter(name: "outputRate", value: "\(outputRate)", expected: "> 0 Hz")
        }
        guard Double(outputRate) <= Double(inputRate) * Self.maximumRatio,
            Double(inputRate) <= Double(outputRate) * Self.maximumRatio
        else {
            throw .invalidParameter(
                name: "outputRate", value: "\(outputRate)",
                expected: "within a factor of \(Int(Self.maximumRatio)) of inputRate \(inputRate) Hz")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.quality = quality
    }

    /// Number of output samples for `count` input samples.
    public func outputCount(forInputCount count: Int) -> Int {
        Int((Double(count) * Double(outputRate) / Double(inputRate)).rounded(.up))
    }

    /// `samples` (at ``inputRate``) resampled to ``outputRate``; a copy when the rates are equal.
    ///
    /// - Throws: ``DSPError/resamplingFailed(reason:)`` with libsoxr's message if it fails.
    public func callAsFunction(_ samples: [Float]) throws(DSPError) -> [Float] {
        if inputRate == outputRate || samples.isEmpty { return samples }
        let count = outputCount(forInputCount: samples.count)
        var output = [Float](repeating: 0, count: count)
        var ioSpec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var qualitySpec = soxr_quality_spec(quality.recipe, 0)
        let error: soxr_error_t? = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                soxr_oneshot(
                    Double(inputRate), Double(outputRate), 1,
                    input.baseAddress, input.count, nil,
                    out.baseAddress, out.count, nil,
                    &ioSpec, &qualitySpec, nil)
            }
        }
        if let error {
            throw .resamplingFailed(reason: String(cString: error))
        }
        // soxr may stop a sample short of the rounded-up length; the zero tail is what
        // librosa's fix_length pads with too.
        return output
    }
}
