import ArgumentParser
import Foundation
import TensorKit

/// `audiocnn bench optim`: one optimiser step and a safetensors checkpoint save/load over the
/// AudioCNN ResNet-34's parameter shapes, beside PyTorch doing the same in the same run
/// (Scripts/bench/bench_optim_torch.py).
struct BenchOptimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optim",
        abstract: "Time SGD/Adam/AdamW steps and safetensors save/load against PyTorch."
    )

    @Option(help: "Timed repetitions per measurement (the fastest is reported, as by the PyTorch script).")
    var steps = 20

    @Option(help: "The PyTorch counterpart script.")
    var torchScript = "Scripts/bench/bench_optim_torch.py"

    @Flag(help: "Skip the PyTorch comparison.")
    var noTorch = false

    /// torchvision's resnet34 layout with a 1-channel stem and 50 classes; the same list as the script.
    static func resnet34Shapes(inChannels: Int = 1, classes: Int = 50) -> [[Int]] {
        var shapes: [[Int]] = [[64, inChannels, 7, 7], [64], [64]]
        var channels = 64
        for (width, blocks, stride) in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)] {
            for b in 0..<blocks {
                shapes += [[width, channels, 3, 3], [width], [width], [width, width, 3, 3], [width], [width]]
                if b == 0 && (stride != 1 || channels != width) { shapes += [[width, channels, 1, 1], [width], [width]] }
                channels = width
            }
        }
        return shapes + [[classes, 512], [classes]]
    }

    /// The fastest of `repetitions` timed calls after one warm-up call: on a shared machine the
    /// minimum is the figure least disturbed by other processes.
    func bestMilliseconds(_ repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm-up: allocates optimiser state
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.min()!
    }

    func run() throws {
        // PyTorch runs before and after the Swift timings and keeps the better figure of the
        // two, so load from other processes on a shared machine does not favour Swift.
        let torchBefore = noTorch ? nil : torchRun()

        var generator = SystemRandomNumberGenerator()
        let shapes = BenchOptimCommand.resnet34Shapes()
        let parameters = try shapes.map { shape -> Parameter in
            let n = shape.reduce(1, *)
            let parameter = Parameter(
                try Tensor(shape: shape, scalars: (0..<n).map { _ in Float.random(in: -0.1...0.1, using: &generator) }))
            parameter.grad = try Tensor(shape: shape, scalars: (0..<n).map { _ in Float.random(in: -1e-3...1e-3, using: &generator) })
            return parameter
        }
        let count = parameters.reduce(0) { $0 + $1.value.count }
        let cases: [(String, () throws -> any Optimizer)] = [
            ("SGD (momentum 0.9, Nesterov)", { try SGD(parameters, learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4, nesterov: true) }),
            ("Adam", { try Adam(parameters, learningRate: 1e-3) }),
            ("AdamW", { try AdamW(parameters, learningRate: 1e-3, weightDecay: 1e-2) }),
        ]
        var ours: [Double] = []
        for (_, make) in cases {
            let optimizer = try make()
            ours.append(try bestMilliseconds(steps) { try optimizer.step() })
        }

        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bench-optim-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("ckpt.safetensors")
        let repetitions = max(3, steps / 4)
        let save = try bestMilliseconds(repetitions) {
            var writer = SafeTensorsWriter()
            for (index, parameter) in parameters.enumerated() { try writer.add("p\(index)", tensor: parameter.value) }
            try writer.write(to: url)
        }
        var checksum: Float = 0
        let load = try bestMilliseconds(repetitions) {
            let file = try SafeTensorsFile(contentsOf: url)
            for (_, tensor) in file.tensors() { checksum += tensor.withUnsafeBufferPointer { $0.reduce(0, +) } }
        }

        let torchAfter = noTorch ? nil : torchRun()
        let torch = BenchOptimCommand.merge(torchBefore, torchAfter)
        if !noTorch && torch.isEmpty { print("PyTorch comparison failed; Swift figures only.") }

        print("Optimiser step over ResNet-34 shapes: \(count) parameters in \(shapes.count) tensors, best of \(steps)")
        if let version = torch["torch"] {
            print("PyTorch \(version), \(torch["threads"] ?? "?") threads, best of two runs around the Swift timings")
        }
        print("optimiser                        Swift ms   torch ms (default / fused)   torch/Swift (default / fused)")
        for ((name, _), time) in zip(cases, ours) {
            let reference = torch[name] as? [String: Double]
            let fused = reference?["fused"]
            let torchText =
                reference.map { String(format: "%8.1f / %@", $0["default"]!, fused.map { String(format: "%.1f", $0) } ?? "-") } ?? "-"
            let ratio =
                reference.map { r in
                    String(format: "%.1fx / %@", r["default"]! / time, fused.map { String(format: "%.2fx", $0 / time) } ?? "-")
                } ?? "-"
            print(
                name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%9.1f", time) + "   "
                    + torchText.padding(toLength: 27, withPad: " ", startingAt: 0) + "  " + ratio)
        }
        let megabytes = Double(count * 4) / 1e6
        print(
            String(
                format:
                    "safetensors %.0f MB checkpoint: save (with fsync) %.1f ms (torch save_file, no fsync: %@), load + read all %.1f ms (torch %@)",
                megabytes, save, (torch["save_ms"] as? Double).map { String(format: "%.1f ms, %.2fx", $0, $0 / save) } ?? "-",
                load, (torch["load_ms"] as? Double).map { String(format: "%.1f ms, %.2fx", $0, $0 / load) } ?? "-"))
        if checksum.isNaN { print("(checksum NaN)") }
    }

    /// Runs the PyTorch script once; its last output line is a JSON object.
    func torchRun() -> [String: Any]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", torchScript, "--steps", String(steps)]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// Merges two PyTorch results keeping the smaller time of each measurement.
    static func merge(_ a: [String: Any]?, _ b: [String: Any]?) -> [String: Any] {
        var merged: [String: Any] = [:]
        for object in [a, b].compactMap({ $0 }) {
            for (key, value) in object {
                if let time = value as? Double, key.hasSuffix("_ms") {
                    merged[key] = min(time, merged[key] as? Double ?? .infinity)
                } else if let times = value as? [String: Double] {
                    var current = merged[key] as? [String: Double] ?? [:]
                    for (k, t) in times { current[k] = min(t, current[k] ?? .infinity) }
                    merged[key] = current
                } else {
                    merged[key] = value
                }
            }
        }
        return merged
    }
}
