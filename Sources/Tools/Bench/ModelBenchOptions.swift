import ArgumentParser
import Foundation
import ResNetAudio
import TensorKit

/// Options shared by `bench train` and `bench infer`.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Clips per batch.") var batch: Int = 16
    @Option(help: "Timed iterations (after one warm-up).") var iterations: Int = 5
    @Option(help: "Mel bins of the synthetic input.") var mels: Int = 128
    @Option(help: "Frames of the synthetic input (431 = 5 s at 44.1 kHz, hop 512).") var frames: Int = 431
    @Option(help: "Model: resnet34 or small.") var model: String = "resnet34"
    @Flag(help: "Print one JSON object on the last line.") var json = false

    func validate() throws {
        guard batch > 0, iterations > 0, mels > 0, frames > 0 else {
            throw ValidationError("--batch, --iterations, --mels and --frames must be positive")
        }
        guard ["resnet34", "small"].contains(model) else { throw ValidationError("--model must be resnet34 or small, not \(model)") }
    }

    func makeModel() throws -> ResNetAudio.AudioCNN {
        try ResNetAudio.AudioCNN(config: model == "small" ? .small(classes: 50) : .resnet34(classes: 50), seed: 0)
    }

    func makeInput() -> Tensor {
        var g = RandomGenerator(seed: 1)
        var x = Tensor(zeros: [batch, 1, mels, frames])
        x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = g.nextNormal() } }
        return x
    }
}

/// Peak resident set size of this process, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Prints `name value, …` and, with `json`, one JSON object on the last line: the numbers
/// with 4 decimals, then the `labels` as strings (JSON only, e.g. `"kernels": "avx512"`).
func printResult(_ fields: [(String, Double)], labels: [(String, String)] = [], json: Bool) {
    print(fields.map { "\($0.0) \(String(format: "%.2f", $0.1))" }.joined(separator: ", "))
    if json {
        let body = fields.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" } + labels.map { "\"\($0.0)\": \"\($0.1)\"" }
        print("{\(body.joined(separator: ", "))}")
    }
}

/// The kernel choices of the current TensorKit configuration, for the JSON of `bench train` and
/// `bench infer`: `kernels` (`avx512` or `portable`), `gemm`, `winograd` and `precision` (`fp32`
/// or `bf16`).
func kernelLabels() -> [(String, String)] {
    let configuration = KernelConfiguration.current
    return [
        ("kernels", configuration.kernelSet.rawValue),
        ("gemm", configuration.kernelSet == .portable ? "openBLAS" : configuration.gemm.rawValue),
        ("winograd", configuration.winograd ? "on" : "off"),
        ("precision", configuration.precision.rawValue),
    ]
}
