import ArgumentParser
import Foundation
import TBLogger

/// `audiocnn bench tblog`: how fast TBLogger writes scalars, against PyTorch's SummaryWriter.
struct BenchTBLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tblog",
        abstract: "Time writing scalars to a TensorBoard event file, against torch.utils.tensorboard.",
        discussion: """
            Each repeat opens a fresh SummaryWriter in a temporary directory, logs --count scalars \
            over the four tags of the reference training, and flushes. "caller" is the time until \
            the last addScalar returns; "total" includes flush(), i.e. every event encoded and in \
            the file. The same is then run with PyTorch (Benchmarks/tblog_torch.py) unless --no-torch.
            """
    )

    @Option(help: "Scalars per repeat.")
    var count = 100_000

    @Option(help: "Repeats; the median is reported.")
    var repeats = 5

    @Flag(help: "Skip the PyTorch comparison.")
    var noTorch = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        let tags = ["Loss/Train", "Loss/Validation", "Accuracy/Validation", "Learning_rate"]
        var caller: [Double] = [], total: [Double] = []
        for _ in 0..<repeats {
            let logdir = NSTemporaryDirectory() + "tblog-bench-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: logdir) }
            let writer = try SummaryWriter(logdir: logdir)
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<count {
                try writer.addScalar(tags[i & 3], Float(sin(Double(i) * 1e-3)), step: i >> 2)
            }
            let queued = DispatchTime.now().uptimeNanoseconds
            try writer.flush()
            let done = DispatchTime.now().uptimeNanoseconds
            try writer.close()
            caller.append(Double(queued - start) / 1e9)
            total.append(Double(done - start) / 1e9)
        }
        let swiftCaller = median(caller), swiftTotal = median(total)
        let torch = noTorch ? nil : runTorch()
        if json {
            var object: [String: Any] = [
                "benchmark": "tblog", "count": count, "repeats": repeats,
                "swift_caller_seconds": swiftCaller, "swift_total_seconds": swiftTotal,
            ]
            if let torch {
                object["torch_caller_seconds"] = torch.caller
                object["torch_total_seconds"] = torch.total
                object["speedup_total"] = torch.total / swiftTotal
                object["speedup_caller"] = torch.caller / swiftCaller
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("TBLogger, \(count) scalars (median of \(repeats)): caller \(ms(swiftCaller)), total with flush \(ms(swiftTotal))")
            if let torch {
                print("PyTorch SummaryWriter, same scalars:        caller \(ms(torch.caller)), total with flush \(ms(torch.total))")
                print(
                    String(format: "speed-up over PyTorch: %.1fx total, %.1fx caller", torch.total / swiftTotal, torch.caller / swiftCaller)
                )
            }
        }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    /// Runs Benchmarks/tblog_torch.py; `nil` (with a note on stderr) when python3 or torch is missing.
    private func runTorch() -> (caller: Double, total: Double)? {
        let script = SourceCheckout.benchmarkScript("tblog_torch.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--count", String(count), "--repeats", String(repeats)]
        let output = Pipe()
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            FileHandle.standardError.write(Data("bench tblog: cannot run python3 (\(error)); no PyTorch comparison\n".utf8))
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let caller = object["caller_seconds"] as? Double, let total = object["total_seconds"] as? Double
        else {
            FileHandle.standardError.write(Data("bench tblog: \(script.path) failed (is torch installed?); no PyTorch comparison\n".utf8))
            return nil
        }
        return (caller, total)
    }
}
