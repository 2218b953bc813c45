// swift-tools-version: 6.0
//
// AudioCNN-Swift: ESC-50 audio classification on the CPU, natively in Swift.
//
// Library products (each importable on its own):
//   AudioDSP             decode, resample, STFT, Mel, dB, SpecAugment, WAV out (_SeededRandom, _Locking)
//   TensorKit            tensors, autograd, CPU kernels, optimisers, I/O (_SeededRandom, _Locking)
//   TBLogger             TensorBoard event files                                  (no deps of ours)
//   ResNetAudio          the residual CNN and its checkpoints                     (TensorKit)
//   ESC50                data set, folds, loader, augmentation                    (AudioDSP)
//   AudioClassification  in-process classifier: audio -> log-Mel -> model -> top-k; no HTTP
//                        (AudioDSP, TensorKit, ResNetAudio)
//   DataParallel         process groups (Open MPI loaded at run time, or threads), gradient buckets
//                        summed while backward runs, synchronised batch norm      (TensorKit)
//   Training             the training recipe, resumable runs, evaluation, data-parallel runs
//                        (AudioDSP, TensorKit, TBLogger, ResNetAudio, ESC50, DataParallel)
// Executable: audiocnn (Sources/Tools), on all of the above and InferenceServer.
// Internal targets (not products):
//   InferenceServer      HTTP adapter over AudioClassification for `audiocnn serve` (Hummingbird)
//   _SeededRandom        the one SplitMix64: generator, seed mixer, hash          (no deps)
//   _Locking             Locked<Value>: a pthread-mutex lock ThreadSanitizer sees (no deps)
//   Sources/Shims        `_C*` system libraries (OpenBLAS, libsndfile, FFTW, libsoxr, protobuf-c);
//                        C: _TensorKitGEMM, _TensorKitWinograd, _TensorKitConv and _TensorKitOptim
//                        (AVX-512 on x86-64, scalar or Swift elsewhere), _AudioDSPPrefetch,
//                        _TBLoggerProto (generated)
// Examples/ holds small executables of this package; Examples/Consumer is a separate package that
// uses each product by path, as another project would (Scripts/check-consumer.sh).

import PackageDescription

let package = Package(
    name: "AudioCNN-Swift",
    products: [
        .library(name: "AudioDSP", targets: ["AudioDSP"]),
        .library(name: "TensorKit", targets: ["TensorKit"]),
        .library(name: "TBLogger", targets: ["TBLogger"]),
        .library(name: "ResNetAudio", targets: ["ResNetAudio"]),
        .library(name: "ESC50", targets: ["ESC50"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "AudioClassification", targets: ["AudioClassification"]),
        .library(name: "DataParallel", targets: ["DataParallel"]),
        .executable(name: "audiocnn", targets: ["audiocnn"]),
        .executable(name: "MelOnly", targets: ["MelOnly"]),
        .executable(name: "TBLoggerDemo", targets: ["TBLoggerDemo"]),
        .executable(name: "ClassifyFile", targets: ["ClassifyFile"]),
        .executable(name: "ClassifyOverHTTP", targets: ["ClassifyOverHTTP"]),
        .executable(name: "TrainESC50", targets: ["TrainESC50"]),
        .executable(name: "CustomDataset", targets: ["CustomDataset"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        // `swift package generate-documentation` (DocC); a plugin, nothing is linked into the products.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // InferenceServer's request deadline is a NIO channel handler (both already come with Hummingbird).
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    ],
    targets: [
        // MARK: - Libraries
        .target(name: "AudioDSP", dependencies: ["_SeededRandom", "_Locking", "_CSndFile", "_CFFTW", "_CSoxr", "_AudioDSPPrefetch"]),
        .target(
            name: "TensorKit",
            dependencies: [
                "_SeededRandom", "_Locking", "_CBLAS", "_TensorKitGEMM", "_TensorKitWinograd", "_TensorKitConv",
                "_TensorKitOptim",
            ]),
        .target(name: "TBLogger", dependencies: ["_Locking", "_TBLoggerProto", "_CProtobufC"]),
        .target(name: "ResNetAudio", dependencies: ["TensorKit", "_Locking"]),
        .target(name: "ESC50", dependencies: ["AudioDSP", "_Locking", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // In-process classification: audio file or samples -> log-Mel -> model -> probabilities.
        .target(name: "AudioClassification", dependencies: ["AudioDSP", "TensorKit", "ResNetAudio"]),
        // The HTTP front-end of AudioClassification and its page; internal to `audiocnn` (not a product).
        .target(
            name: "InferenceServer",
            dependencies: [
                "AudioClassification", "AudioDSP", "TensorKit", "_Locking", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            resources: [.copy("Resources/Web"), .copy("Resources/openapi.json")]),
        // Data-parallel training: process groups (MPI loaded at run time, or threads), gradient
        // buckets summed during backward, synchronised batch norm.
        .target(name: "DataParallel", dependencies: ["TensorKit", "_CMPILoader"]),
        .target(
            name: "Training", dependencies: ["_Locking", "AudioDSP", "TensorKit", "TBLogger", "ResNetAudio", "ESC50", "DataParallel"]),

        // MARK: - Command-line tool and examples
        .executableTarget(
            name: "audiocnn",
            dependencies: [
                "AudioDSP", "TensorKit", "TBLogger", "ResNetAudio", "ESC50", "AudioClassification", "InferenceServer", "Training",
                "DataParallel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Tools"
        ),
        .executableTarget(name: "MelOnly", dependencies: ["AudioDSP"], path: "Examples/MelOnly"),
        .executableTarget(name: "TBLoggerDemo", dependencies: ["TBLogger"], path: "Examples/TBLoggerDemo"),
        .executableTarget(name: "ClassifyFile", dependencies: ["AudioClassification"], path: "Examples/ClassifyFile"),
        .executableTarget(name: "ClassifyOverHTTP", path: "Examples/ClassifyOverHTTP"),
        .executableTarget(
            name: "TrainESC50", dependencies: ["AudioDSP", "TensorKit", "ResNetAudio", "ESC50"],
            path: "Examples/TrainESC50"),
        .executableTarget(
            name: "CustomDataset", dependencies: ["Training", "AudioDSP", "ResNetAudio", "ESC50"],
            path: "Examples/CustomDataset"),

        // MARK: - Implementation details shared by the libraries (not products)
        .target(name: "_SeededRandom"),  // SplitMix64: the one seeded generator and seed mixer
        .target(name: "_Locking"),  // Locked<Value>: a pthread-mutex lock ThreadSanitizer can see

        // MARK: - System libraries (implementation details)
        .target(name: "_AudioDSPPrefetch", path: "Sources/Shims/_AudioDSPPrefetch"),  // C helper: prefetch
        .target(name: "_TensorKitGEMM", path: "Sources/Shims/_TensorKitGEMM"),  // C: AVX-512 SGEMM kernels
        .target(name: "_TensorKitWinograd", path: "Sources/Shims/_TensorKitWinograd"),  // C: AVX-512 Winograd transforms
        .target(name: "_TensorKitConv", path: "Sources/Shims/_TensorKitConv"),  // C: direct convolution (the stem, pooled)
        .target(name: "_TensorKitOptim", path: "Sources/Shims/_TensorKitOptim"),  // C: AVX-512 Adam update
        // C: Open MPI's entry points, loaded with dlopen only when `mpirun` started the process.
        .target(name: "_CMPILoader", path: "Sources/Shims/_CMPILoader", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(
            name: "_CBLAS", path: "Sources/Shims/_CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "_CSndFile", path: "Sources/Shims/_CSndFile", pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(
            name: "_CFFTW", path: "Sources/Shims/_CFFTW", pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(
            name: "_CSoxr", path: "Sources/Shims/_CSoxr", pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]),
        // TensorBoard's messages compiled by protoc-c (Scripts/regen-tbproto.sh); generated C is committed.
        .target(
            name: "_TBLoggerProto", dependencies: ["_CProtobufC"], path: "Sources/Shims/_TBLoggerProto",
            exclude: ["proto"]),
        .systemLibrary(
            name: "_CProtobufC", path: "Sources/Shims/_CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),

        // MARK: - Tests
        .target(name: "_TestSupport", dependencies: ["TensorKit", "_SeededRandom"], path: "Tests/_TestSupport"),
        .testTarget(name: "AudioDSPTests", dependencies: ["AudioDSP", "_TestSupport", "_CSndFile"]),
        .testTarget(name: "TensorKitTests", dependencies: ["TensorKit", "_TestSupport", "_Locking", "_TensorKitGEMM"]),
        .testTarget(name: "TBLoggerTests", dependencies: ["TBLogger", "_TBLoggerProto", "_TestSupport"]),
        .testTarget(name: "ResNetAudioTests", dependencies: ["ResNetAudio", "TensorKit", "_TestSupport"]),
        .testTarget(
            name: "AudioClassificationTests",
            dependencies: ["AudioClassification", "AudioDSP", "ResNetAudio", "TensorKit", "_TestSupport", "_Locking"]),
        .testTarget(
            name: "InferenceServerTests",
            dependencies: [
                "InferenceServer", "AudioClassification", "_Locking", "AudioDSP", "ResNetAudio", "TensorKit", "_TestSupport", "_CSndFile",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "AudioDSP", "ResNetAudio", "TensorKit", "ESC50", "_TestSupport"]),
        .testTarget(name: "DataParallelTests", dependencies: ["DataParallel", "TensorKit", "ResNetAudio", "_TestSupport", "_Locking"]),
        .testTarget(
            name: "ESC50Tests", dependencies: ["ESC50", "_TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // The command line's own logic (option parsing and validation), through `@testable import audiocnn`.
        .testTarget(
            name: "AudioCNNCommandTests",
            dependencies: ["audiocnn", "TensorKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ]
)

// MARK: - Fuzz targets
// libFuzzer harnesses under Fuzz/, built only by Scripts/fuzz.sh (AUDIOCNN_FUZZ=1 with
// `--sanitize fuzzer`), so the normal build and `swift test` never see them.
if Context.environment["AUDIOCNN_FUZZ"] != nil {
    let harnesses: [(name: String, dependencies: [Target.Dependency])] = [
        ("AudioDecoder", ["AudioDSP"]), ("PredictRequest", ["InferenceServer", "AudioClassification", "AudioDSP"]),
        ("SafeTensors", ["TensorKit"]), ("Checkpoint", ["ResNetAudio"]), ("ESC50Metadata", ["ESC50"]),
    ]
    for harness in harnesses {
        package.targets.append(
            .executableTarget(
                name: "fuzz-\(harness.name)", dependencies: harness.dependencies,
                path: "Fuzz/\(harness.name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
