import ArgumentParser
import Foundation
@_spi(Benchmarks) import TensorKit

/// `audiocnn bench gemm`: GFLOP/s of TensorKit's GEMM kernel and OpenBLAS's, shape by shape,
/// on the GEMMs AudioCNN's convolutions run (training at batch 16, inference at batch 1).
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time TensorKit's SGEMM kernel against OpenBLAS on AudioCNN's convolution GEMM shapes.",
        discussion: """
            Each row times one product on all of TensorKit's workers, interleaving the kernels round by \
            round and keeping each one's best. "per worker": every worker runs its own product at once \
            (training, where workers own images); "split": one product split over the workers \
            (batch-1 inference). OpenBLAS runs the kernel family it reports (this machine pins \
            Haswell); set TENSORKIT_OPENBLAS_CORETYPE=SKYLAKEX to compare with its AVX-512 kernels.
            """
    )

    @Option(help: "Timed rounds per shape (the best is reported).") var repetitions = 7
    @Option(help: "Machine sgemm ceiling in GFLOP/s on all workers, for the fraction column.") var ceiling = 198.0
    @Flag(help: "Print one JSON object on the last line.") var json = false

    struct Shape {
        var name: String
        var ta: Bool, tb: Bool
        var m: Int, n: Int, k: Int
        var split: Bool
    }

    /// The conv GEMMs of AudioCNN on a 1x128x431 input, per worker on 2 workers
    /// (`Winograd.swift`, `Convolution.swift` choose these sizes).
    static let shapes: [Shape] = [
        Shape(name: "stem 7x7/2 fwd", ta: false, tb: false, m: 64, n: 13824, k: 49, split: false),
        Shape(name: "stem 7x7/2 dw", ta: false, tb: true, m: 64, n: 49, k: 13824, split: false),
        Shape(name: "wino l1 fwd/dx", ta: false, tb: false, m: 64, n: 864, k: 64, split: false),
        Shape(name: "wino l1 dw", ta: false, tb: true, m: 64, n: 64, k: 864, split: false),
        Shape(name: "wino l2 fwd/dx", ta: false, tb: false, m: 128, n: 648, k: 128, split: false),
        Shape(name: "wino l2 dw", ta: false, tb: true, m: 128, n: 128, k: 648, split: false),
        Shape(name: "wino l3 fwd/dx", ta: false, tb: false, m: 256, n: 560, k: 256, split: false),
        Shape(name: "wino l3 dw", ta: false, tb: true, m: 256, n: 256, k: 560, split: false),
        Shape(name: "wino l4 fwd/dx", ta: false, tb: false, m: 512, n: 224, k: 512, split: false),
        Shape(name: "wino l4 dw", ta: false, tb: true, m: 512, n: 512, k: 224, split: false),
        Shape(name: "l2 3x3/2 fwd", ta: false, tb: false, m: 128, n: 2592, k: 576, split: false),
        Shape(name: "l2 3x3/2 dx", ta: true, tb: false, m: 576, n: 2592, k: 128, split: false),
        Shape(name: "l2 3x3/2 dw", ta: false, tb: true, m: 128, n: 576, k: 2592, split: false),
        Shape(name: "l3 3x3/2 fwd", ta: false, tb: false, m: 256, n: 2160, k: 1152, split: false),
        Shape(name: "l4 3x3/2 fwd", ta: false, tb: false, m: 512, n: 448, k: 2304, split: false),
        Shape(name: "l4 3x3/2 dx", ta: true, tb: false, m: 2304, n: 448, k: 512, split: false),
        Shape(name: "l4 3x3/2 dw", ta: false, tb: true, m: 512, n: 2304, k: 448, split: false),
        Shape(name: "l3 1x1/2 fwd", ta: false, tb: false, m: 256, n: 2160, k: 128, split: false),
        Shape(name: "b1 stem", ta: false, tb: false, m: 64, n: 13824, k: 49, split: true),
        Shape(name: "b1 wino l1", ta: false, tb: false, m: 64, n: 864, k: 64, split: false),
        Shape(name: "b1 wino l2", ta: false, tb: false, m: 128, n: 216, k: 128, split: false),
        Shape(name: "b1 l3 3x3", ta: false, tb: false, m: 256, n: 216, k: 2304, split: true),
        Shape(name: "b1 l4 3x3", ta: false, tb: false, m: 512, n: 56, k: 4608, split: true),
        Shape(name: "b1 l2 3x3/2", ta: false, tb: false, m: 128, n: 864, k: 576, split: true),
        Shape(name: "b1 l3 3x3/2", ta: false, tb: false, m: 256, n: 216, k: 1152, split: true),
        Shape(name: "b1 l4 3x3/2", ta: false, tb: false, m: 512, n: 56, k: 2304, split: true),
    ]

    struct Row: Codable {
        var shape: String
        var op: String
        var m, n, k: Int
        var mode: String
        var tensorkit_gflops: Double?
        var openblas_gflops: Double
        var ratio: Double?
        var fraction_of_ceiling: Double?
    }

    func run() throws {
        guard repetitions > 0, ceiling > 0 else {
            throw ValidationError("--repetitions (\(repetitions)) and --ceiling (\(ceiling)) must be positive")
        }
        let probes = Self.shapes.map {
            KernelBenchmark.GEMMProbe(transposeA: $0.ta, transposeB: $0.tb, m: $0.m, n: $0.n, k: $0.k, splitOverWorkers: $0.split)
        }
        // The AVX-512 kernel, or on CPUs without it the AVX2 one (NN: A packed once; NT: A read in place; TN: packed per call).
        let own = KernelBenchmark.tensorKitGEMMKernel
        var ours = [Double?](repeating: nil, count: probes.count)
        var theirs = [Double](repeating: 0, count: probes.count)
        // Rounds interleave the two kernels shape by shape: load bursts on the shared machine
        // hit both alike, and each keeps its best.
        for _ in 0..<repetitions {
            for (i, p) in probes.enumerated() {
                if let own, let g = p.measure(own, repetitions: 1) { ours[i] = max(ours[i] ?? 0, g) }
                theirs[i] = max(theirs[i], p.measure(.openBLAS, repetitions: 1) ?? 0)
            }
        }
        let rows = Self.shapes.indices.map { i -> Row in
            let s = Self.shapes[i]
            return Row(
                shape: s.name, op: (s.ta ? "T" : "N") + (s.tb ? "T" : "N"), m: s.m, n: s.n, k: s.k,
                mode: s.split ? "split" : "per worker", tensorkit_gflops: ours[i], openblas_gflops: theirs[i],
                ratio: ours[i].map { $0 / theirs[i] }, fraction_of_ceiling: ours[i].map { $0 / ceiling })
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
        print(
            "SGEMM on \(KernelBenchmark.workerThreads) workers, TensorKit \(own.map { $0 == .tensorKitAVX2 ? "AVX2 (NN: A packed once; NT: A in place; TN: packed per call)" : "AVX-512" } ?? "none"), OpenBLAS \(KernelBenchmark.blasKernels) kernels, best of \(repetitions), load average \(load)"
        )
        print("shape            op      m      n      k  mode        TensorKit  OpenBLAS  ratio  of \(Int(ceiling)) GFLOP/s")
        for r in rows {
            let tk = r.tensorkit_gflops.map { String(format: "%9.1f", $0) } ?? "        -"
            let ratio = r.ratio.map { String(format: "%5.2fx", $0) } ?? "     -"
            let frac = r.fraction_of_ceiling.map { String(format: "%5.0f%%", 100 * $0) } ?? "     -"
            print(
                r.shape.padding(toLength: 16, withPad: " ", startingAt: 0) + " " + r.op
                    + String(format: " %6d %6d %6d  ", r.m, r.n, r.k) + r.mode.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + "  " + tk + String(format: " %9.1f ", r.openblas_gflops) + ratio + "  " + frac)
        }
        if json {
            struct Summary: Codable {
                var threads: Int; var tensorkit_kernel: String?; var blas_kernels: String; var load_average: String; var rows: [Row]
            }
            let data = try JSONEncoder().encode(
                Summary(
                    threads: KernelBenchmark.workerThreads, tensorkit_kernel: own?.rawValue,
                    blas_kernels: KernelBenchmark.blasKernels,
                    load_average: load, rows: rows))
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
