import ESC50
import Foundation

/// A small, synthetic data set in the ESC-50 layout (`audio/*.wav`, `meta/esc50.csv`), for demos
/// and tests where the real clips are not available. The data are synthetic: accuracy on them
/// says the pipeline learns, not how well it classifies real sounds.
///
/// Six classes of generated sounds, each with random gain, onset, duration, pitch and
/// background noise: `tone` (a steady sine with a harmonic), `chirp` (a rising or falling
/// sweep), `noise_burst` (band-limited noise bursts), `click_train` (periodic clicks), `am_tone`
/// (an amplitude-modulated tone) and `fm_tone` (a frequency-modulated tone).
public struct SyntheticDataset: Sendable {
    /// The class names, in the order of their `target` column.
    public static let classes = ["am_tone", "chirp", "click_train", "fm_tone", "noise_burst", "tone"]

    /// Sample rate of the clips in Hz.
    public var sampleRate: Int = 44_100
    /// Length of each clip in seconds.
    public var duration: Double = 5
    /// Folds (ESC-50 has 5).
    public var folds: Int = 5
    /// Clips of each class in each fold.
    public var clipsPerClassPerFold: Int = 4
    /// The seed of every random choice.
    public var seed: UInt64 = 0

    /// The demo's default: 5 folds x 4 clips x 6 classes = 120 clips of 5 s at 44.1 kHz.
    public init() {}

    /// Writes the data set to `directory` (created when missing) and returns its CSV's URL.
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for non-positive sizes,
    ///   ``TrainingError/io(path:reason:)`` when a file cannot be written.
    @discardableResult
    public func write(to directory: URL) throws(TrainingError) -> URL {
        guard sampleRate >= 8000, duration > 0, folds > 0, clipsPerClassPerFold > 0 else {
            throw .invalidConfiguration(
                "synthetic data set: sample rate \(sampleRate) (>= 8000), duration \(duration), folds \(folds) and clips per class per fold \(clipsPerClassPerFold) must be positive"
            )
        }
        let audio = directory.appendingPathComponent("audio"), meta = directory.appendingPathComponent("meta")
        do {
            try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, reason: "cannot create the data set folders: \(error.localizedDescription)")
        }
        var csv = "filename,fold,target,category,esc10,src_file,take\n"
        var source = 100_000
        for fold in 1...folds {
            for (target, name) in Self.classes.enumerated() {
                for _ in 0..<clipsPerClassPerFold {
                    source += 1
                    let filename = "\(fold)-\(source)-A-\(target).wav"
                    var generator = SeededGenerator(seed: seed, stream: [UInt64(source)])
                    let samples = synthesize(classIndex: target, using: &generator)
                    try WAVWriter.write(samples, sampleRate: sampleRate, to: audio.appendingPathComponent(filename))
                    csv += "\(filename),\(fold),\(target),\(name),False,\(source),A\n"
                }
            }
        }
        let csvURL = meta.appendingPathComponent("esc50.csv")
        do {
            try csv.write(to: csvURL, atomically: true, encoding: .utf8)
        } catch {
            throw .io(path: csvURL.path, reason: "cannot write the metadata: \(error.localizedDescription)")
        }
        return csvURL
    }

    /// One clip of class `classIndex` (see ``classes``).
    func synthesize(classIndex: Int, using g: inout SeededGenerator) -> [Float] {
        let n = Int(Double(sampleRate) * duration)
        let sr = Double(sampleRate)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * g.nextUnit() }
        var out = [Float](repeating: 0, count: n)
        // The event: random onset and length inside the clip, faded in and out over 10 ms.
        let length = Int(uniform(0.4, 0.9) * Double(n))
        let onset = Int(uniform(0, Double(n - length)))
        let gain = uniform(0.2, 0.8)
        let nyquist = sr / 2
        let f0 = uniform(200, min(2000, nyquist / 4))
        var phase = 0.0
        let clickPeriod = Int(sr / uniform(4, 20))
        let modRate = uniform(3, 12)
        let burstRate = uniform(1.5, 4)
        let sweepUp = g.nextUnit() < 0.5
        let (lowBand, highBand) = (uniform(0.05, 0.2), uniform(0.3, 0.6))
        var lowpass = 0.0, lowpass2 = 0.0
        let fade = max(1, Int(0.01 * sr))
        for i in 0..<length {
            let t = Double(i) / sr
            var v: Double
            switch Self.classes[classIndex] {
            case "tone":
                v = sin(2 * .pi * f0 * t) + 0.3 * sin(4 * .pi * f0 * t)
            case "chirp":
                let span = Double(length) / sr
                let f = sweepUp ? f0 * pow(4, t / span) : 4 * f0 * pow(0.25, t / span)
                phase += 2 * .pi * f / sr
                v = sin(phase)
            case "noise_burst":
                let white = uniform(-1, 1)
                lowpass += lowBand * (white - lowpass)
                lowpass2 += highBand * (white - lowpass2)
                let gate = sin(2 * .pi * burstRate * t) > 0.2 ? 1.0 : 0.0
                v = 2 * (lowpass2 - lowpass) * gate
            case "click_train":
                let k = i % clickPeriod
                v = k < Int(0.002 * sr) ? (1 - Double(k) / (0.002 * sr)) * (k % 2 == 0 ? 1 : -1) : 0
            case "am_tone":
                v = (0.5 + 0.5 * sin(2 * .pi * modRate * t)) * sin(2 * .pi * f0 * t)
            default:  // fm_tone
                phase += 2 * .pi * f0 * (1 + 0.3 * sin(2 * .pi * modRate * t)) / sr
                v = sin(phase)
            }
            let envelope = min(1, Double(min(i, length - 1 - i)) / Double(fade))
            out[onset + i] = Float(gain * envelope * v)
        }
        let noise = uniform(0.002, 0.05)
        for i in 0..<n { out[i] += Float(noise * uniform(-1, 1)) }
        return out
    }
}
