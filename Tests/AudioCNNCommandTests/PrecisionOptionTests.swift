import ArgumentParser
import TensorKit
import XCTest
@testable import audiocnn

/// `--precision fp32|bf16`: parsed alike by every command that takes it, refused as bf16 on a
/// CPU without AVX512_BF16, applied to TensorKit's configuration, and reported by `bench --json`.
final class PrecisionOptionTests: XCTestCase {
    /// Each command with `--precision` and the rest of a command line it accepts.
    private let commandLines: [[String]] = [
        ["predict", "clip.wav", "--checkpoint", "model.safetensors"],
        ["serve", "--checkpoint", "model.safetensors"],
        ["evaluate", "--checkpoint", "model.safetensors", "--data", "data"],
        ["train", "--data", "data"],
        ["cross-validate", "--data", "data"],
        ["bench", "infer"],
        ["bench", "train"],
    ]

    /// The precision option of a parsed command, or `nil` for a command without one.
    private func precision(of command: ParsableCommand) -> PrecisionOption? {
        switch command {
        case let c as PredictCommand: c.precision
        case let c as ServeCommand: c.precision
        case let c as EvaluateCommand: c.precision
        case let c as TrainCommand: c.precision
        case let c as CrossValidateCommand: c.precision
        case let c as BenchInferCommand: c.precision
        case let c as BenchTrainCommand: c.precision
        default: nil
        }
    }

    func testEveryCommandTakesPrecisionAndDefaultsToTensorKits() throws {
        for line in commandLines {
            let fp32 = try XCTUnwrap(precision(of: AudioCNNCommand.parseAsRoot(line + ["--precision", "fp32"])), "\(line)")
            XCTAssertEqual(fp32.precision, .float32, "\(line)")
            XCTAssertEqual(fp32.resolved, .float32, "\(line)")
            let absent = try XCTUnwrap(precision(of: AudioCNNCommand.parseAsRoot(line)), "\(line)")
            XCTAssertNil(absent.precision, "\(line)")
            // No flag: TensorKit's current precision (TENSORKIT_PRECISION, else fp32).
            XCTAssertEqual(absent.resolved, KernelConfiguration.current.precision, "\(line)")
            KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) {
                XCTAssertEqual(absent.resolved, .bfloat16, "\(line)")
                XCTAssertEqual(fp32.resolved, .float32, "an explicit flag wins: \(line)")
            }
            if KernelConfiguration.isBFloat16Available {
                let bf16 = try XCTUnwrap(precision(of: AudioCNNCommand.parseAsRoot(line + ["--precision", "bf16"])), "\(line)")
                XCTAssertEqual(bf16.resolved, .bfloat16, "\(line)")
            } else {
                XCTAssertThrowsError(try AudioCNNCommand.parseAsRoot(line + ["--precision", "bf16"]), "\(line)") { error in
                    XCTAssertTrue(AudioCNNCommand.message(for: error).contains("AVX512_BF16"), AudioCNNCommand.message(for: error))
                }
            }
        }
    }

    func testSpellingsAndUnknownValues() throws {
        let parse = { (value: String) in try PrecisionOption.parse(["--precision", value]).precision }
        XCTAssertEqual(try parse("fp32"), .float32)
        XCTAssertEqual(try parse("FP32"), .float32)
        XCTAssertEqual(try parse("float32"), .float32)
        if KernelConfiguration.isBFloat16Available {
            XCTAssertEqual(try parse("bf16"), .bfloat16)
            XCTAssertEqual(try parse("bfloat16"), .bfloat16)
        }
        for bad in ["fp16", "int8", ""] {
            XCTAssertThrowsError(try parse(bad), bad) { error in
                let message = PrecisionOption.message(for: error)
                XCTAssertTrue(message.contains("fp32") && message.contains("bf16"), message)
            }
        }
    }

    /// bf16 without AVX512_BF16 is refused, naming the instruction set and the alternative;
    /// fp32 is never refused, and bf16 is accepted where the CPU has it.
    func testBFloat16IsRefusedWithoutAVX512BF16() throws {
        XCTAssertThrowsError(try PrecisionOption.check(.bfloat16, bfloat16Available: false)) { error in
            let message = (error as? ValidationError)?.message ?? ""
            XCTAssertTrue(message.contains("--precision bf16"), message)
            XCTAssertTrue(message.contains("AVX512_BF16"), message)
            XCTAssertTrue(message.contains("--precision fp32"), message)
        }
        XCTAssertNoThrow(try PrecisionOption.check(.bfloat16, bfloat16Available: true))
        XCTAssertNoThrow(try PrecisionOption.check(.float32, bfloat16Available: false))
        XCTAssertNoThrow(try PrecisionOption.check(.float32, bfloat16Available: true))
    }

    /// `apply` runs its body with the precision as TensorKit's current one, and changes nothing else.
    func testApplySetsTensorKitsPrecision() throws {
        let outside = KernelConfiguration.current
        let fp32 = try PrecisionOption.parse(["--precision", "fp32"])
        KernelConfiguration.withCurrent(changing: { $0.precision = .bfloat16 }) {
            let inside = fp32.apply { KernelConfiguration.current }
            XCTAssertEqual(inside.precision, .float32)
            var expected = KernelConfiguration.current
            expected.precision = .float32
            XCTAssertEqual(inside, expected)
        }
        XCTAssertEqual(KernelConfiguration.current, outside)
        if KernelConfiguration.isBFloat16Available {
            let bf16 = try PrecisionOption.parse(["--precision", "bf16"])
            XCTAssertEqual(bf16.apply { KernelConfiguration.current.precision }, .bfloat16)
        }
    }

    /// `bench infer|train --json` label the precision they ran at, beside the existing labels.
    func testBenchLabelsIncludePrecision() {
        for precision in KernelConfiguration.Precision.allCases {
            let labels = KernelConfiguration.withCurrent(changing: { $0.precision = precision }) { kernelLabels() }
            XCTAssertEqual(labels.map(\.0), ["kernels", "gemm", "winograd", "precision"])
            XCTAssertEqual(labels.last?.1, precision.rawValue)
        }
    }
}
