import ArgumentParser
import TensorKit

extension KernelConfiguration.Precision: ExpressibleByArgument {
    /// `fp32` or `bf16`, in any case; also `float32` and `bfloat16` (as `TENSORKIT_PRECISION` takes).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "fp32", "float32": self = .float32
        case "bf16", "bfloat16": self = .bfloat16
        default: return nil
        }
    }
}

/// `--precision fp32|bf16`: the operand precision of the convolution and linear GEMMs, shared by
/// `predict`, `serve`, `evaluate`, `train`, `cross-validate`, `bench infer` and `bench train`.
///
/// Without the flag the precision is TensorKit's current one: fp32, unless `TENSORKIT_PRECISION`
/// says otherwise. An explicit `--precision bf16` on a CPU without AVX512_BF16 is refused (no
/// silent fallback to fp32, and no silent emulation slower than fp32).
struct PrecisionOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            """
            Operand precision of the convolution and linear layers: fp32 (float32, PyTorch's results) or bf16 \
            (bfloat16 operands with float32 sums, as torch.autocast; needs a CPU with AVX512_BF16). \
            Default: TENSORKIT_PRECISION, else fp32.
            """,
            valueName: "fp32|bf16"))
    var precision: KernelConfiguration.Precision?

    func validate() throws {
        if let precision { try Self.check(precision, bfloat16Available: KernelConfiguration.isBFloat16Available) }
    }

    /// Refuses `precision` when it is `bfloat16` and the CPU
    /// cannot multiply bfloat16 in hardware (`bfloat16Available` is
    /// `KernelConfiguration.isBFloat16Available`; a parameter so that tests can take either branch).
    static func check(_ precision: KernelConfiguration.Precision, bfloat16Available: Bool) throws {
        guard precision == .bfloat16, !bfloat16Available else { return }
        throw ValidationError(
            "--precision bf16 needs a CPU with AVX512_BF16 (bfloat16 dot products in hardware), and this one has none; "
                + "use --precision fp32 (the default)")
    }

    /// The precision to run at: the flag's, else TensorKit's current one (`TENSORKIT_PRECISION`,
    /// fp32 by default).
    var resolved: KernelConfiguration.Precision { precision ?? KernelConfiguration.current.precision }

    /// Runs `body` with `resolved` as TensorKit's operand precision (on its worker threads too).
    func apply<R>(_ body: () throws -> R) rethrows -> R {
        let precision = resolved
        return try KernelConfiguration.withCurrent(changing: { $0.precision = precision }, body)
    }
}
