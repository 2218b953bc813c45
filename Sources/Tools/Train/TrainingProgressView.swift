import Foundation
import Training

#if canImport(Glibc)
import Glibc
#endif

/// Shows training progress on standard error: a redrawn bar per epoch (clips/s, loss, ETA)
/// when it is a terminal, one plain line per epoch otherwise (logs, CI).
final class TrainingProgressView {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private let prefix: String

    init(prefix: String = "") { self.prefix = prefix }

    func batch(_ p: BatchProgress) {
        let now = Date()
        if !isTerminal {
            // A log gets a plain line now and then during long epochs, never a redrawn bar.
            guard now.timeIntervalSince(lastDraw) > 60, p.batch < p.batches else { return }
            if lastDraw == .distantPast { lastDraw = now; return }
            lastDraw = now
            let line =
                "\(prefix)epoch \(p.epoch)/\(p.epochs) batch \(p.batch)/\(p.batches)  "
                + String(format: "%.2f clips/s  loss %.4f", Double(p.clips) / max(p.seconds, 1e-9), p.meanLoss) + "\n"
            FileHandle.standardError.write(Data(line.utf8))
            return
        }
        guard p.batch == p.batches || now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        let width = 24
        let filled = p.batches == 0 ? 0 : width * p.batch / p.batches
        let rate = Double(p.clips) / max(p.seconds, 1e-9)
        let eta = p.batch == 0 ? 0 : p.seconds / Double(p.batch) * Double(p.batches - p.batch)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line =
            "\(prefix)epoch \(p.epoch)/\(p.epochs) \(bar) \(p.batch)/\(p.batches)  "
            + String(format: "%.1f clips/s  loss %.4f", rate, p.meanLoss) + "  ETA \(Self.clock(eta))"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func epoch(_ r: EpochReport, isBest: Bool, epochs: Int) {
        let line =
            "\(prefix)epoch \(r.epoch)/\(epochs)  "
            + String(format: "train loss %.4f  val loss %.4f  val acc %.2f%%", r.trainLoss, r.validationLoss, r.validationAccuracy * 100)
            + (isBest ? " (best)" : "") + String(format: "  lr %.2e  %.1f clips/s  ", r.learningRate, r.clipsPerSecond)
            + Self.clock(r.seconds)
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
