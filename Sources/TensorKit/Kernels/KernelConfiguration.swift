import _TensorKitGEMM
import _TensorKitOptim
import _TensorKitWinograd
import Foundation

/// Which kernels TensorKit runs and how it splits work over threads: one value, read from the
/// `TENSORKIT_*` environment variables once, and scoped explicitly where a caller wants another.
///
/// ```swift
/// var portable = KernelConfiguration.current
/// portable.kernelSet = .portable
/// let logits = KernelConfiguration.withCurrent(portable) { model(x) }
/// ```
///
/// ``current`` is the configuration bound by the innermost `withCurrent(_:_:)` of
/// the calling task or thread (TensorKit's worker threads see their caller's), else
/// ``environment``. Nothing in TensorKit mutates shared configuration, so tests and concurrent
/// callers can each run with their own.
///
/// Environment variables (read once, when TensorKit first needs them):
///
/// | variable | effect |
/// |---|---|
/// | `TENSORKIT_KERNELS=portable` | portable code everywhere: OpenBLAS GEMM, Swift Winograd transforms |
/// | `TENSORKIT_KERNELS=avx2` | TensorKit's AVX2 kernels (the default on x86-64 CPUs without AVX-512) |
/// | `TENSORKIT_GEMM=openblas` | OpenBLAS instead of TensorKit's GEMM (vector transforms stay) |
/// | `TENSORKIT_PRECISION=bf16` | bfloat16 operands in the convolution and linear GEMMs (``Precision``) |
/// | `TENSORKIT_WINOGRAD=0` | 3×3 convolutions on im2col + GEMM instead of Winograd |
/// | `TENSORKIT_WINOGRAD_LARGE_TILES=0` | F(2×2, 3×3) only, not F(4×4, 3×3): frozen filters (either precision), float32 training's input and weight gradients |
/// | `TENSORKIT_WINOGRAD_FORWARD_4X4=1` or `0` | training's forward pass on F(4×4, 3×3) too, and at bf16 its input gradients, or not (default: on; ``winogradLargeTilesForward``) |
/// | `TENSORKIT_WINOGRAD_MIN_TILES=N` | Winograd for frozen filters from `N` tiles per worker |
/// | `TENSORKIT_CONV_COLUMNS=N` | minimum GEMM columns per im2col convolution call |
/// | `TENSORKIT_NUM_THREADS=N` | worker threads (default: all cores, shared evenly among the ranks of an MPI job on one machine) |
/// | `TENSORKIT_WORKER_POOL=0` | no persistent worker threads (process-wide) |
/// | `TENSORKIT_OPENBLAS_CORETYPE=NAME` | OpenBLAS kernel family, e.g. `SKYLAKEX` (process-wide) |
public struct KernelConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The family of vector kernels in use.
    public enum KernelSet: String, Sendable, CaseIterable {
        /// TensorKit's AVX-512 kernels (GEMM micro-kernel, Winograd tile transforms), on x86-64
        /// CPUs with AVX-512F/VL and FMA.
        case avx512
        /// TensorKit's AVX2 kernels, on x86-64 CPUs with AVX2 and FMA: the Winograd tile
        /// transforms (F(2×2, 3×3); F(4×4, 3×3) for frozen filters and float32 gradients), the
        /// weight gradient's last step, the pooled inference stem and, at float32, a 6 × 16 GEMM
        /// (over filters packed once where they are frozen; elsewhere B packed per call and an
        /// untransposed A read in place); OpenBLAS for tiny products and for bfloat16's emulated
        /// ones. The default where AVX-512 is missing (AMD Zen 2 and 3, most Intel client CPUs).
        case avx2
        /// Portable code only: OpenBLAS for every GEMM, Winograd transforms in Swift. Runs on
        /// every CPU; the same results within float rounding.
        case portable
    }

    /// The GEMM behind convolutions and linear layers when ``kernelSet`` is ``KernelSet/avx512``,
    /// and behind float32 Winograd products with ``KernelSet/avx2``.
    public enum GEMMKernel: String, Sendable, CaseIterable {
        /// TensorKit's packed AVX-512 SGEMM (OpenBLAS still runs tiny products).
        case tensorKit
        /// OpenBLAS for every product.
        case openBLAS
    }

    /// The kernel set; setting one this CPU cannot run gives the best one it can of
    /// ``KernelSet/avx2`` and ``KernelSet/portable`` (see ``isAVX512Available``,
    /// ``isAVX2Available``).
    public var kernelSet: KernelSet {
        get { storedKernelSet }
        set {
            switch newValue {
            case .avx512 where Self.isAVX512Available: storedKernelSet = .avx512
            case .avx512, .avx2: storedKernelSet = Self.isAVX2Available ? .avx2 : .portable
            case .portable: storedKernelSet = .portable
            }
        }
    }
    private var storedKernelSet: KernelSet

    /// The GEMM kernel (only ``KernelSet/avx512`` has a choice).
    public var gemm: GEMMKernel

    /// The number format of the operands of the convolution and linear GEMMs.
    public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
        /// IEEE single precision throughout: the results PyTorch's float32 gives.
        case float32 = "fp32"
        /// Operands rounded to bfloat16 (8-bit significand, float32's range) and products
        /// summed in float32, as `torch.autocast("cpu", dtype=torch.bfloat16)` does for its
        /// convolutions and linear layers. Everything else stays float32: what the GEMMs
        /// write, weights, optimiser state, batch-norm statistics, losses, the log-Mel
        /// front end. On CPUs with AVX512_BF16 (``isBFloat16Available``) TensorKit's kernel
        /// multiplies with `vdpbf16ps`, twice the float32 FMA rate; elsewhere the rounding is
        /// emulated (the same numbers, slower than float32).
        case bfloat16 = "bf16"

        /// `fp32` or `bf16`, as `TENSORKIT_PRECISION` and `--precision` take it.
        public var description: String { rawValue }
    }

    /// The operand precision of the convolution and linear GEMMs (``Precision/float32`` unless
    /// asked). Products too small for TensorKit's GEMM kernel run in float32 either way.
    public var precision: Precision

    /// Whether 3×3, stride-1, padding-1 convolutions use Winograd F(2×2, 3×3).
    public var winograd: Bool

    /// Frozen (inference) filters take the Winograd path from this many tiles per worker.
    public var winogradMinimumTilesPrepared: Int

    /// Frozen (inference) filters on maps large enough take Winograd F(4×4, 3×3) instead of
    /// F(2×2, 3×3): 4/9 of F(2×2)'s multiplications. In float32 its rounding stays far inside the
    /// float32 tests' tolerances. At ``Precision/bfloat16`` it amplified the operands' rounding in
    /// each layer's output about six-fold on Lavin & Gray's points (about three-fold simulated on
    /// today's 0, ±3/4, ±3/2), yet the model's logits and class probabilities stay
    /// within the bfloat16 agreement bounds (Docs/Benchmarks.md). Float32 training's input
    /// gradients take it too (from 64 4×4 tiles per worker), and so do its weight gradients (on
    /// 4×4 output-gradient tiles) and, unless ``winogradLargeTilesForward`` is `false`, its
    /// forward pass. Needs the AVX-512 or AVX2 kernels.
    public var winogradLargeTiles: Bool

    /// Forward passes with filters transformed on each call (training) on F(4×4, 3×3) too,
    /// where ``winogradLargeTiles`` gives the input gradients F(4×4): `true` asks for it, `false`
    /// refuses it, and `nil` (the default) takes it at either precision
    /// (`TENSORKIT_WINOGRAD_FORWARD_4X4=1` or `=0` set it). ``appliesLargeTilesForward`` says
    /// whether it takes effect.
    ///
    /// At float32 it saves 44% of the forward pass's multiplications in every 3×3 layer of a
    /// training step, for a larger rounding error in the forward pass, which the backward pass
    /// amplifies. On F(4×4)'s points 0, ±3/4, ±3/2 the gradients stay closer to float64 than
    /// PyTorch float32's (`FullModelTrainingParityTests`; Docs/Benchmarks.md has the figures);
    /// `false` keeps the forward pass on F(2×2), the most precise setting. Needs the AVX-512 or
    /// AVX2 kernels. At ``Precision/bfloat16`` (AVX-512 kernels) it puts the input gradients on
    /// F(4×4) as well (float32 training has them there already): F(4×4) on Lavin & Gray's
    /// points amplified bfloat16's rounding about sixfold per layer, and ESC-10 training ended
    /// within the run-to-run noise of float32 with it (paired seeds in Docs/Benchmarks.md).
    public var winogradLargeTilesForward: Bool?

    /// ``winogradLargeTilesForward``, or where it is `nil` the default (on): whether training's
    /// forward pass asks for F(4×4, 3×3).
    var asksLargeTilesForward: Bool { winogradLargeTilesForward ?? true }

    /// Whether training's forward pass runs on F(4×4, 3×3) with these settings: it is asked
    /// (``winogradLargeTilesForward``, or by default), F(4×4) is on, and training
    /// runs at float32 with the AVX-512 or AVX2 kernels, or at bfloat16 with the AVX-512 kernels
    /// (elsewhere the forward pass stays on F(2×2) whatever the setting says).
    public var appliesLargeTilesForward: Bool { Winograd.takesLargeTilesForward(self) }

    /// Minimum GEMM columns per im2col convolution call: images with smaller output planes are
    /// unfolded side by side. Training's convolutions (filters that change on every call, and
    /// every backward pass) take at most 512: their unfolded inputs are written and read back
    /// on every step, and wider groups spill them out of the caches.
    public var convolutionColumns: Int

    /// Threads a parallel region uses (at least 1). More than ``environment``'s run on
    /// Dispatch's threads rather than TensorKit's persistent workers (and more than the cores
    /// only add per-thread scratch memory).
    public var threads: Int {
        get { storedThreads }
        set { storedThreads = max(1, newValue) }
    }
    private var storedThreads: Int

    // Tuning knobs below are internal: tests move them to reach every code path.

    /// Below this many multiply-adds (m·n·k) OpenBLAS runs the product: for tiny GEMMs packing
    /// dominates and neither kernel's speed matters.
    var minimumTensorKitGEMMWork = 1 << 15
    /// Minimum tiles per Winograd GEMM: images with few tiles are transformed side by side.
    var winogradTargetTiles = 512
    /// The same for F(4×4, 3×3), whose tiles are 36 values per channel rather than 16.
    var winogradLargeTargetTiles = 128
    /// The bytes of transformed inputs and products (V and M) a group of images in a Winograd
    /// convolution keeps in the caches between the transforms and the products; beyond them,
    /// ``Winograd/imagesPerGroup(_:tilesPerImage:target:tileBytes:filterBytes:_:)`` counts them
    /// as written out and read back, and with the AVX2 transforms an image larger than this
    /// goes in bands of tile rows.
    var winogradGroupBytes = 4 << 20
    /// Winograd applies from this many tiles per worker (filters transformed on each call).
    var winogradMinimumTilesPerWorker = 64
    /// F(4×4, 3×3) applies to frozen filters from this many 4×4 tiles per worker (layer3 at
    /// batch 1 has 14, layer4 4).
    var winogradLargeTileMinimum = 12
    /// F(4×4, 3×3) applies to float32 training's input gradients from this many 4×4 tiles per
    /// worker (batch 16 on 2 workers: layer1 1728, layer2 448, layer3 112, layer4 32).
    var winogradLargeTileTrainingMinimum = 64
    /// The most GEMM columns a training im2col convolution groups images for (see
    /// ``convolutionColumns``): layer2's strided 3×3 (864 columns an image) takes one image at
    /// a time, not three.
    var trainingConvolutionColumns = 512
    /// Float32 training's weight gradients take 4×4 output-gradient tiles from this many 4×4
    /// tiles per worker as well (layer4 at batch 16: 32), where its input gradient stays on
    /// F(2×2): the weight gradient's rounding is not what the backward pass amplifies.
    var winogradLargeTileWeightGradientMinimum = 32
    /// Whether float32 training's weight gradients take 4×4 output-gradient tiles where its
    /// input gradients take F(4×4, 3×3) (tests and timings turn it off to compare).
    var winogradLargeTilesWeightGradient = true
    /// Whether 3×3/2 max pooling takes its SIMD path.
    var maxPoolFastPath = true

    /// The defaults on this CPU: the best kernel set available, every core. The `TENSORKIT_*`
    /// variables are not applied: start from ``current`` or ``environment`` to keep them.
    public init() {
        storedKernelSet = Self.isAVX512Available ? .avx512 : Self.isAVX2Available ? .avx2 : .portable
        gemm = .tensorKit
        precision = .float32
        winograd = true
        winogradMinimumTilesPrepared = 8
        winogradLargeTiles = true
        winogradLargeTilesForward = nil
        convolutionColumns = 2048
        storedThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Whether TensorKit's GEMM runs products that are large enough.
    var usesTensorKitGEMM: Bool { kernelSet == .avx512 && gemm == .tensorKit }
    /// Whether the Winograd tile transforms are the AVX-512 ones.
    var usesVectorWinograd: Bool { kernelSet == .avx512 }
    /// The lanes of the C loop Adam's update runs on (`tkoptim_adam`): 16 with the AVX-512 set, 8
    /// with the AVX2 one, `nil` for the Swift loop (portable set, or a CPU without them).
    var vectorOptimizerWidth: Int32? {
        let widest = tkoptim_available()
        switch kernelSet {
        case .avx512 where widest >= 16: return 16
        case .avx2 where widest >= 8: return 8
        default: return nil
        }
    }
    /// Whether the Winograd tile transforms are the AVX2 ones (float32 V and M).
    var usesAVX2Winograd: Bool { kernelSet == .avx2 }
    /// Whether float32 products run on TensorKit's AVX2 kernel (`gemm` `.tensorKit`): Winograd
    /// filters (frozen, or once per training call) packed for it, and every other product above
    /// ``minimumTensorKitGEMMWork``.
    var usesAVX2GEMM: Bool { kernelSet == .avx2 && gemm == .tensorKit && precision == .float32 }

    /// Whether this CPU and OS run TensorKit's AVX-512 kernels (checked once).
    public static let isAVX512Available: Bool = tkgemm_available() != 0 && tkwino_available() != 0

    /// Whether this CPU runs TensorKit's AVX2 kernels (AVX2 and FMA; checked once).
    public static let isAVX2Available: Bool = tkwino_avx2_available() != 0 && tkgemm_avx2_available() != 0

    /// Whether this CPU multiplies ``Precision/bfloat16`` operands in hardware (AVX512_BF16 with
    /// AVX-512F/BW/VL), so that bfloat16 runs faster than float32; checked once. Without it,
    /// ``Precision/bfloat16`` is emulated: correct, but slower than float32.
    public static let isBFloat16Available: Bool = isAVX512Available && tkgemm_bf16_available() != 0

    /// The configuration the `TENSORKIT_*` environment variables give, read once.
    public static let environment = KernelConfiguration(environment: ProcessInfo.processInfo.environment)

    @TaskLocal static var scoped: KernelConfiguration?

    /// The configuration in force for the calling task or thread.
    public static var current: KernelConfiguration { scoped ?? environment }

    /// Runs `body` with `configuration` as ``current`` (including on TensorKit's worker threads
    /// for the parallel regions `body` starts), then restores the previous one.
    public static func withCurrent<R>(_ configuration: KernelConfiguration, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(configuration, operation: body)
    }

    /// The `async` form of `withCurrent(_:_:)`.
    public static func withCurrent<R>(
        _ configuration: KernelConfiguration,
        _ body: () async throws -> R
    ) async rethrows -> R {
        try await $scoped.withValue(configuration, operation: body)
    }

    /// `kernels=avx512 gemm=tensorKit winograd=on threads=2 …`, for logs and benchmarks.
    public var description: String {
        "kernels=\(kernelSet.rawValue) gemm=\(gemm.rawValue) precision=\(precision) winograd=\(winograd ? "on" : "off")"
            + " threads=\(threads)"
            + " winograd_min_tiles=\(winogradMinimumTilesPrepared) winograd_4x4=\(winogradLargeTiles ? "on" : "off")"
            + " winograd_4x4_forward=\(winogradLargeTilesForward.map { $0 ? "on" : "off" } ?? "auto")"
            + " conv_columns=\(convolutionColumns)"
    }
}

extension KernelConfiguration {
    /// Runs `body` with ``current`` modified by `change` as the current configuration.
    ///
    /// ```swift
    /// let y = KernelConfiguration.withCurrent(changing: { $0.winograd = false }) { conv2d(x, weight: w) }
    /// ```
    public static func withCurrent<R>(
        changing change: (inout KernelConfiguration) -> Void,
        _ body: () throws -> R
    ) rethrows -> R {
        var configuration = current
        change(&configuration)
        return try withCurrent(configuration, body)
    }
}
