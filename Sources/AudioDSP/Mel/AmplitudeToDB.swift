import Foundation

/// Power to decibels, as torchaudio's `AmplitudeToDB(stype="power")`:
/// `10 log10(max(x, amin)) - 10 log10(max(amin, ref))`, then, if `topDB` is set, floored at
/// `max - topDB` over the whole spectrogram.
public struct AmplitudeToDB: Sendable, Equatable {
    /// Smallest power taken into account (avoids `log(0)`).
    public var amin: Float
    /// Reference power that maps to 0 dB.
    public var reference: Float
    /// Dynamic range kept below the loudest value, in dB; `nil` keeps everything.
    public var topDB: Float?

    /// Creates the conversion `10 log10(max(power, amin) / reference)`, then the `topDB` floor.
    ///
    /// - Parameters:
    ///   - amin: lower clamp for power, > 0 (default 1e-10, that is -100 dB).
    ///   - reference: power that maps to 0 dB (default 1).
    ///   - topDB: optional dynamic range in dB.
    public init(amin: Float = 1e-10, reference: Float = 1, topDB: Float? = nil) {
        self.amin = amin
        self.reference = reference
        self.topDB = topDB
    }

    /// `spectrogram` converted to dB.
    public func callAsFunction(_ spectrogram: Spectrogram) -> Spectrogram {
        var result = spectrogram
        apply(to: &result)
        return result
    }

    /// Converts `spectrogram` to dB in place.
    public func apply(to spectrogram: inout Spectrogram) {
        spectrogram.values.withUnsafeMutableBufferPointer { apply(to: $0) }
    }

    func apply(to values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        let offset = 10 * log10(max(amin, reference))
        FastLog.tenLog10(base, count: values.count, floor: amin, subtract: offset)
        if let topDB {
            var peak = -Float.infinity
            for v in values { peak = max(peak, v) }
            let floor = peak - topDB
            for i in 0..<values.count { values[i] = max(values[i], floor) }
        }
    }
}
