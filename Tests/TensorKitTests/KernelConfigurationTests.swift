import _Locking
import Dispatch
import XCTest
@testable import TensorKit

/// `KernelConfiguration`: the `TENSORKIT_*` variables, scoping (reaching TensorKit's worker
/// threads), and concurrent callers each keeping their own kernels.
final class KernelConfigurationTests: XCTestCase {
    func testEnvironmentVariables() {
        let defaults = KernelConfiguration()
        XCTAssertEqual(KernelConfiguration(environment: [:]), defaults)
        XCTAssertEqual(defaults.kernelSet, vectorKernelSets.first ?? .portable)
        let set = KernelConfiguration(environment: [
            "TENSORKIT_KERNELS": "portable", "TENSORKIT_GEMM": "openblas", "TENSORKIT_WINOGRAD": "0",
            "TENSORKIT_NUM_THREADS": "3", "TENSORKIT_CONV_COLUMNS": "64", "TENSORKIT_WINOGRAD_MIN_TILES": "32",
            "TENSORKIT_WINOGRAD_LARGE_TILES": "0", "TENSORKIT_WINOGRAD_FORWARD_4X4": "1",
        ])
        XCTAssertEqual(set.kernelSet, .portable)
        XCTAssertEqual(set.gemm, .openBLAS)
        XCTAssertFalse(set.winograd)
        XCTAssertEqual(set.threads, 3)
        XCTAssertEqual(set.convolutionColumns, 64)
        XCTAssertEqual(set.winogradMinimumTilesPrepared, 32)
        XCTAssertFalse(set.winogradLargeTiles)
        XCTAssertEqual(set.winogradLargeTilesForward, true)
        XCTAssertNil(defaults.winogradLargeTilesForward, "training's forward tiles are left to the default")
        XCTAssertEqual(KernelConfiguration(environment: ["TENSORKIT_WINOGRAD_FORWARD_4X4": "0"]).winogradLargeTilesForward, false)
        XCTAssertFalse(set.usesTensorKitGEMM)
        XCTAssertFalse(set.usesVectorWinograd)
        XCTAssertEqual(set.description.split(separator: " ").first, "kernels=portable")
        // Values that do not parse leave the defaults (and warn on standard error).
        let bad = KernelConfiguration(environment: [
            "TENSORKIT_KERNELS": "neon", "TENSORKIT_NUM_THREADS": "-2",
            "TENSORKIT_CONV_COLUMNS": "many", "TENSORKIT_WINOGRAD_FORWARD_4X4": "yes",
        ])
        XCTAssertEqual(bad, defaults)
        let avx2 = KernelConfiguration(environment: ["TENSORKIT_KERNELS": "avx2"])
        XCTAssertEqual(avx2.kernelSet, KernelConfiguration.isAVX2Available ? .avx2 : .portable)
        XCTAssertFalse(avx2.usesTensorKitGEMM, "the AVX2 kernels multiply on OpenBLAS")
    }

    /// Float32 training's tiles on the ResNet's 3×3/1 layers at batch 16 on two workers
    /// (4×4 tiles per worker: layer1 1728, layer2 448, layer3 112, layer4 32): the input
    /// gradient on F(4×4) in layers 1-3, the weight gradient on 4×4 tiles in all four, the
    /// forward pass on F(2×2), with either vector kernel set.
    func testTrainingTilesOfTheResNetLayersAtBatch16() {
        let layers = [(64, 32, 108), (128, 16, 54), (256, 8, 27), (512, 4, 14)]
        for kernels in vectorKernelSets {
            var configuration = KernelConfiguration()
            configuration.kernelSet = kernels
            configuration.threads = 2
            for (index, (channels, height, width)) in layers.enumerated() {
                let g = ConvGeometry(
                    batch: 16, inChannels: channels, height: height, width: width, outChannels: channels,
                    kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
                let layer = "layer\(index + 1), \(kernels)"
                XCTAssertEqual(Winograd.usesLargeTilesForInputGradient(g, configuration), index < 3, "dx on F(4x4), \(layer)")
                XCTAssertTrue(Winograd.usesLargeTilesForWeightGradient(g, configuration), "dw on 4x4 tiles, \(layer)")
                XCTAssertEqual(Winograd.usesLargeTilesForward(g, configuration), index < 3, "forward on F(4x4), \(layer)")
            }
        }
    }

    /// `appliesLargeTilesForward` says where training's forward pass takes F(4×4): by default or
    /// asked, at float32 with a vector kernel set or at bfloat16 with the AVX-512 set, and F(4×4)
    /// on; never with the portable kernels, bfloat16 on the AVX2 set, Winograd or its 4×4 tiles
    /// off, or where refused.
    func testLargeTilesForwardAppliesOnlyWhereTheForwardPassTakesThem() {
        var asked = KernelConfiguration()
        asked.winogradLargeTilesForward = true
        XCTAssertEqual(asked.appliesLargeTilesForward, !vectorKernelSets.isEmpty)
        XCTAssertEqual(KernelConfiguration().appliesLargeTilesForward, !vectorKernelSets.isEmpty, "float32 by default")
        var refused = KernelConfiguration()
        refused.winogradLargeTilesForward = false
        XCTAssertFalse(refused.appliesLargeTilesForward, "float32, refused")
        var bf16 = asked
        bf16.precision = .bfloat16
        XCTAssertEqual(bf16.appliesLargeTilesForward, KernelConfiguration.isAVX512Available, "bf16")
        var bf16Default = KernelConfiguration()
        bf16Default.precision = .bfloat16
        XCTAssertEqual(bf16Default.appliesLargeTilesForward, KernelConfiguration.isAVX512Available, "bf16 by default")
        bf16Default.winogradLargeTilesForward = false
        XCTAssertFalse(bf16Default.appliesLargeTilesForward, "bf16, refused")
        let changes: [(String, (inout KernelConfiguration) -> Void)] = [
            (
                "bf16 on the AVX2 set",
                {
                    $0.precision = .bfloat16; $0.kernelSet = .avx2
                }
            ),
            ("portable", { $0.kernelSet = .portable }),
            ("winograd off", { $0.winograd = false }), ("4x4 tiles off", { $0.winogradLargeTiles = false }),
        ]
        for (what, change) in changes {
            var c = asked
            change(&c)
            XCTAssertFalse(c.appliesLargeTilesForward, what)
        }
        for kernels in vectorKernelSets {
            var c = asked
            c.kernelSet = kernels
            XCTAssertTrue(c.appliesLargeTilesForward, "\(kernels)")
        }
    }

    func testAVX512IsOnlyChosenWhereTheCPUHasIt() {
        var configuration = KernelConfiguration()
        configuration.kernelSet = .avx512
        let avx2OrPortable: KernelConfiguration.KernelSet = KernelConfiguration.isAVX2Available ? .avx2 : .portable
        XCTAssertEqual(configuration.kernelSet, KernelConfiguration.isAVX512Available ? .avx512 : avx2OrPortable)
        configuration.kernelSet = .avx2
        XCTAssertEqual(configuration.kernelSet, avx2OrPortable)
        configuration.threads = 0
        XCTAssertEqual(configuration.threads, 1, "at least one thread")
    }

    /// The scoped configuration is current inside the scope, on every part of a parallel
    /// region (TensorKit's helper threads are outside the caller's task), and gone after it.
    func testScopeReachesWorkerThreadsAndEnds() {
        let before = KernelConfiguration.current
        let parts = max(2, Parallel.workers)
        let seen = Locked<[KernelConfiguration.KernelSet]>([])
        KernelConfiguration.withCurrent(changing: {
            $0.kernelSet = .portable; $0.convolutionColumns = 7
        }) {
            XCTAssertEqual(KernelConfiguration.current.convolutionColumns, 7)
            Parallel.forRange(parts, grain: 1) { lo, hi in
                for _ in lo..<hi {
                    let current = KernelConfiguration.current
                    XCTAssertEqual(current.convolutionColumns, 7, "a worker sees the caller's configuration")
                    seen.withLock { $0.append(current.kernelSet) }
                }
            }
        }
        XCTAssertEqual(seen.withLock { $0 }, Array(repeating: .portable, count: parts))
        XCTAssertEqual(KernelConfiguration.current, before, "the scope ends with its closure")
    }

    /// Two threads convolve at once, one with the AVX-512 kernels and Winograd, the other with
    /// the portable kernels and im2col; both agree with PyTorch every time. Under
    /// ThreadSanitizer this also checks that configuration and kernels share no racy state.
    func testConcurrentCallersKeepTheirOwnConfiguration() throws {
        let c = "conv_3x3_large_b2"
        let x = try fixture(c, "x"), w = try fixture(c, "w"), b = try fixture(c, "b"), expected = try fixture(c, "y")
        let configurations: [KernelConfiguration] = [
            {
                var k = KernelConfiguration(); k.winogradMinimumTilesPerWorker = 0; return k
            }(),
            {
                var k = KernelConfiguration(); k.kernelSet = .portable; k.winograd = false; return k
            }(),
        ]
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: configurations.count) { i in
            KernelConfiguration.withCurrent(configurations[i]) {
                for round in 0..<4 {
                    let y = withNoGrad { conv2d(x, weight: w, bias: b, padding: 1) }
                    let error = zip(y.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
                    if error > 1e-4 || KernelConfiguration.current != configurations[i] {
                        failures.withLock { $0.append("configuration \(i), round \(round): max error \(error)") }
                    }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
    }
}
