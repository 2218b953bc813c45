import ArgumentParser
import AudioDSP
import Dispatch
import Foundation

/// `audiocnn bench mel`: log-Mel throughput on many clips over all cores.
struct BenchMelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mel",
        abstract: "Log-Mel spectrograms per second (default: 64 five-second 44.1 kHz clips, all cores).",
        discussion: "Compare with Benchmarks/mel_reference.py, which runs this and the PyTorch and librosa equivalents."
    )

    @Option(help: "Number of clips per batch.")
    var clips: Int = 64

    @Option(help: "Clip length in seconds.")
    var seconds: Double = 5

    @Option(help: "Timed repetitions (the best is reported).")
    var repeats: Int = 7

    @Flag(help: "Print one JSON object {\"clips_per_s\": …} on the last line.")
    var json = false

    func validate() throws {
        guard clips >= 1 else { throw ValidationError("--clips must be at least 1") }
        guard seconds > 0.02 else { throw ValidationError("--seconds must be more than 0.02") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() async throws {
        let config = MelConfig()
        let mel = try MelSpectrogram(config)
        let count = Int(seconds * Double(config.sampleRate))
        var rng = SplitMix64(seed: 1)
        let batch: [[Float]] = (0..<clips).map { _ in
            (0..<count).map { _ in Float(0.5 * (2 * rng.nextUnitDouble() - 1)) }
        }
        _ = try mel.logMel(batch: batch)  // warm-up: plans, page faults
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let out = try mel.logMel(batch: batch)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            precondition(out.count == clips)
            best = min(best, elapsed)
        }
        let rate = Double(clips) / best
        // The same work written into one preallocated [clips, mels, frames] buffer, as a
        // training loader would: no per-clip allocation or page faults.
        let frames = config.frameCount(forSampleCount: count)
        var contiguous = [Float](repeating: 0, count: clips * config.melCount * frames)
        var bestContiguous = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try contiguous.withUnsafeMutableBufferPointer { try mel.logMel(batch: batch, into: $0) }
            bestContiguous = min(bestContiguous, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(String(format: "log-Mel %d x %.1f s clips (%d x %d each) on %d cores: best %.2f ms per batch, %.1f clips/s",
                     clips, seconds, config.melCount, config.frameCount(forSampleCount: count), cores, best * 1e3, rate))
        print(String(format: "into one preallocated [%d, %d, %d] buffer: best %.2f ms per batch, %.1f clips/s",
                     clips, config.melCount, frames, bestContiguous * 1e3, Double(clips) / bestContiguous))
        if json {
            print(String(format: "{\"clips_per_s\": %.1f}", rate))
        }
    }
}
