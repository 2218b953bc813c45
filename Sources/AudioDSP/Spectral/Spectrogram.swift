/// A real-valued time-frequency matrix: power or dB, over frequency bins or Mel bands.
///
/// Stored row-major as `[rowCount, frameCount]` (frequency major, time minor), the layout of
/// torchaudio's `(n_mels, time)` output and of the CNN's input plane.
public struct Spectrogram: Sendable, Equatable {
    /// Number of frequency rows (Mel bands or FFT bins).
    public var rowCount: Int
    /// Number of time frames.
    public var frameCount: Int
    /// `rowCount * frameCount` values; `values[row * frameCount + frame]`.
    public var values: [Float]

    /// Wraps `values` laid out as `[rowCount, frameCount]`.
    ///
    /// - Throws: ``DSPError/shapeMismatch(expected:got:)`` if `values.count != rowCount * frameCount`.
    public init(rowCount: Int, frameCount: Int, values: [Float]) throws(DSPError) {
        guard rowCount >= 0, frameCount >= 0, values.count == rowCount * frameCount else {
            throw .shapeMismatch(
                expected: "\(rowCount) x \(frameCount) = \(rowCount * frameCount) values",
                got: "\(values.count) values")
        }
        self.rowCount = rowCount
        self.frameCount = frameCount
        self.values = values
    }

    /// Storage for `rowCount * frameCount` values that the caller must all overwrite.
    init(uninitializedRows rowCount: Int, frames frameCount: Int) {
        self.rowCount = rowCount
        self.frameCount = frameCount
        // Every element is written by the caller; skipping the zero fill saves a pass.
        self.values = [Float](unsafeUninitializedCapacity: rowCount * frameCount) { _, count in
            count = rowCount * frameCount
        }
    }

    /// The value at (`row`, `frame`). Both must be in range.
    public subscript(row: Int, frame: Int) -> Float {
        get { values[row * frameCount + frame] }
        set { values[row * frameCount + frame] = newValue }
    }

    /// `[rowCount, frameCount]`.
    public var shape: [Int] { [rowCount, frameCount] }
}
