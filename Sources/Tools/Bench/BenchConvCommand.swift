import ArgumentParser
import Foundation
@_spi(Benchmarks) import TensorKit

/// `audiocnn bench conv`: conv2d forward + backward on the four ResNet stage shapes, beside the
/// sgemm ceiling of the same GEMMs and PyTorch's conv2d measured in the same run.
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time conv2d forward+backward on the ResNet stage shapes against sgemm and PyTorch."
    )

    @Option(help: "Images per batch.") var batch = 16
    @Option(help: "Timed repetitions per shape (the best is reported).") var repetitions = 5
    @Option(help: "Time this stage alone (layer1, layer2, layer3 or layer4), e.g. under a profiler.") var stage: String?
    @Option(help: "Python interpreter for the PyTorch comparison.") var python = "python3"
    @Flag(help: "Skip the PyTorch comparison.") var noPytorch = false
    @Flag(help: "Print one JSON object on the last line.") var json = false
    @Flag(help: "Skip the sgemm ceiling (for profiling the convolutions alone).") var noCeiling = false

    struct Stage: Codable {
        var name: String
        var channels: Int
        var height: Int
        var width: Int
    }

    /// The 3x3 convolutions of each stage for a 1x128x431 input (after the stem: 64x32x108).
    static let stages = [
        Stage(name: "layer1", channels: 64, height: 32, width: 108),
        Stage(name: "layer2", channels: 128, height: 16, width: 54),
        Stage(name: "layer3", channels: 256, height: 8, width: 27),
        Stage(name: "layer4", channels: 512, height: 4, width: 14),
    ]

    struct Row: Codable {
        var stage: String
        var shape: [Int]
        var forward_ms: Double
        var backward_ms: Double
        var total_ms: Double
        var gflops: Double
        var sgemm_ceiling_gflops: Double
        var pytorch_total_ms: Double?
        var speedup_vs_pytorch: Double?
    }

    func validate() throws {
        if let stage, !Self.stages.contains(where: { $0.name == stage }) {
            let names = Self.stages.map(\.name).joined(separator: ", ")
            throw ValidationError("--stage \(stage) is not one of \(names)")
        }
    }

    func run() throws {
        guard batch > 0, repetitions > 0 else {
            throw ValidationError("--batch (\(batch)) and --repetitions (\(repetitions)) must be positive")
        }
        let torch = noPytorch ? nil : try PyTorchServer(python: python, batch: batch, threads: KernelBenchmark.workerThreads)
        defer { torch?.close() }
        struct Case {
            var stage: Stage; var x, w, gy: Tensor; var probe: KernelBenchmark.SGEMMProbe;
            var fwd = Double.infinity, bwd = Double.infinity, pt = Double.infinity, ceiling = 0.0
        }
        var cases: [Case] = Self.stages.filter { stage == nil || $0.name == stage }.map { s in
            var g = RandomGenerator(seed: 7)
            return Case(
                stage: s,
                x: Initialization.uniform([batch, s.channels, s.height, s.width], bound: 1, generator: &g).requiringGrad(),
                w: Initialization.kaimingUniformDefault([s.channels, s.channels, 3, 3], generator: &g).requiringGrad(),
                gy: Initialization.uniform([batch, s.channels, s.height, s.width], bound: 1, generator: &g),
                probe: KernelBenchmark.SGEMMProbe(m: s.channels, n: batch * s.height * s.width, k: s.channels * 9))
        }
        // Rounds interleave TensorKit, PyTorch and the sgemm ceiling shape by shape, and each
        // keeps its best time: the machine is shared, so load bursts hit all three alike.
        for round in 0...repetitions {
            for i in cases.indices {
                let s = cases[i].stage
                // Fresh leaves each round, as PyTorch's side resets `.grad`: no accumulation pass.
                let x = cases[i].x.requiringGrad(), w = cases[i].w.requiringGrad()
                let t0 = DispatchTime.now().uptimeNanoseconds
                let y = conv2d(x, weight: w, padding: 1)
                let t1 = DispatchTime.now().uptimeNanoseconds
                y.backward(gradient: cases[i].gy)
                let t2 = DispatchTime.now().uptimeNanoseconds
                let pt = try torch?.time(s.name)
                if round == 0 { continue }  // warm-up: caches, buffer pool
                cases[i].fwd = min(cases[i].fwd, Double(t1 - t0) / 1e6)
                cases[i].bwd = min(cases[i].bwd, Double(t2 - t1) / 1e6)
                if let pt { cases[i].pt = min(cases[i].pt, pt) }
                if !noCeiling {
                    cases[i].ceiling = max(cases[i].ceiling, cases[i].probe.measure(threads: KernelBenchmark.workerThreads))
                }
            }
        }
        var rows: [Row] = []
        for c in cases {
            let s = c.stage, f = c.fwd, b = c.bwd
            let flops = 3 * 2 * Double(batch) * Double(s.channels) * Double(s.height * s.width) * Double(s.channels * 9)
            let pt: Double? = torch == nil ? nil : c.pt
            rows.append(
                Row(
                    stage: s.name, shape: [batch, s.channels, s.height, s.width], forward_ms: f, backward_ms: b,
                    total_ms: f + b, gflops: flops / ((f + b) / 1e3) / 1e9, sgemm_ceiling_gflops: c.ceiling,
                    pytorch_total_ms: pt, speedup_vs_pytorch: pt.map { $0 / (f + b) }))
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
        print(
            "conv2d 3x3 pad 1, forward + backward (dx, dw), batch \(batch), \(KernelBenchmark.workerThreads) threads, OpenBLAS \(KernelBenchmark.blasKernels) kernels, best of \(repetitions), load average \(load)"
        )
        print("stage   shape             fwd ms   bwd ms  total ms  GFLOP/s  sgemm ceil  PyTorch ms  speed-up")
        for r in rows {
            let shape = r.shape.map(String.init).joined(separator: "x")
            let pt = r.pytorch_total_ms.map { String(format: "%10.1f", $0) } ?? "         -"
            let sp = r.speedup_vs_pytorch.map { String(format: "%8.2fx", $0) } ?? "        -"
            let head = r.stage + "  " + shape.padding(toLength: 16, withPad: " ", startingAt: 0)
            print(
                head
                    + String(
                        format: " %7.1f  %7.1f  %8.1f  %7.1f  %10.1f", r.forward_ms,
                        r.backward_ms, r.total_ms, r.gflops, r.sgemm_ceiling_gflops) + "  \(pt)  \(sp)")
        }
        let total = rows.reduce(0) { $0 + $1.total_ms }
        let ptTotal = rows.compactMap(\.pytorch_total_ms).reduce(0, +)
        if torch != nil { print(String(format: "all stages: %.1f ms, PyTorch %.1f ms, speed-up %.2fx", total, ptTotal, ptTotal / total)) }
        if json {
            struct Summary: Codable {
                var batch: Int; var threads: Int; var blas_kernels: String; var load_average: String; var stages: [Row];
                var total_ms: Double; var pytorch_total_ms: Double?; var speedup_vs_pytorch: Double?
            }
            let summary = Summary(
                batch: batch, threads: KernelBenchmark.workerThreads, blas_kernels: KernelBenchmark.blasKernels,
                load_average: load, stages: rows, total_ms: total,
                pytorch_total_ms: torch == nil ? nil : ptTotal,
                speedup_vs_pytorch: torch == nil ? nil : ptTotal / total)
            let data = try JSONEncoder().encode(summary)
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// `Benchmarks/conv_pytorch.py --serve`, kept running so PyTorch's timings interleave with ours.
final class PyTorchServer {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    init(python: String, batch: Int, threads: Int) throws {
        let script = SourceCheckout.benchmarkScript("conv_pytorch.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, "--serve", "--batch", String(batch), "--threads", String(threads)]
        process.standardInput = input
        process.standardOutput = output
        do { try process.run() } catch {
            throw ValidationError("cannot start \(python) \(script.path): \(error); use --no-pytorch to skip PyTorch")
        }
        guard readLine() == "ready" else {
            throw ValidationError("\(script.path) did not start (is PyTorch installed?); use --no-pytorch to skip it")
        }
    }

    /// Milliseconds of one PyTorch forward + backward on `stage`.
    func time(_ stage: String) throws -> Double {
        input.fileHandleForWriting.write(Data((stage + "\n").utf8))
        guard let line = readLine(), let ms = Double(line) else {
            throw ValidationError("the PyTorch benchmark stopped answering")
        }
        return ms
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
