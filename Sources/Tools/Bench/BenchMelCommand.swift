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

    @Flag(help: "Print one JSON object {\"clips_per_s\": …, \"array_api_clips_per_s\": …} on the last line.")
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
        let frames = config.frameCount(forSampleCount: count)

        // 1. Into one preallocated [clips, mels, frames] buffer, as a training loader fills a
        //    batch: the headline figure.
        var contiguous = [Float](repeating: 0, count: clips * config.melCount * frames)
        let batchRate = try Self.bestRate(clips: clips, repeats: repeats) {
            try contiguous.withUnsafeMutableBufferPointer { try mel.logMel(batch: batch, into: $0) }
        }
        // 2. One `Spectrogram` (its own array) per clip: adds allocation and first-touch page faults.
        let arrayRate = try Self.bestRate(clips: clips, repeats: repeats) {
            let spectrograms = try mel.logMel(batch: batch)
            precondition(spectrograms.count == clips)
        }
        // 3. One clip at a time on this thread, in CPU time: robust to other processes' load.
        var cpuPerClip = Double.infinity
        for _ in 0..<repeats {
            let start = Self.threadCPUTime()
            for clip in batch { _ = try mel.logMel(clip) }
            cpuPerClip = min(cpuPerClip, (Self.threadCPUTime() - start) / Double(clips))
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(
            String(
                format: "log-Mel of %d x %.1f s clips (%d x %d each) on %d cores:",
                clips, seconds, config.melCount, frames, cores))
        print(String(format: "  logMel(batch:into:) one [%d, %d, %d] buffer: %8.1f clips/s", clips, config.melCount, frames, batchRate))
        print(String(format: "  logMel(batch:) one array per clip:            %8.1f clips/s", arrayRate))
        print(String(format: "  logMel(_:) serially, CPU time of one core:    %8.3f ms per clip", cpuPerClip * 1e3))
        if json {
            print(
                String(
                    format: "{\"clips_per_s\": %.1f, \"array_api_clips_per_s\": %.1f, \"cpu_ms_per_clip\": %.4f}",
                    batchRate, arrayRate, cpuPerClip * 1e3))
        }
    }

    /// Clips per second of the fastest of `repeats` timed runs of `body`, after one warm-up run
    /// (FFT plans, page faults).
    private static func bestRate(clips: Int, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(clips) / best
    }

    /// CPU seconds consumed by the calling thread.
    private static func threadCPUTime() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
