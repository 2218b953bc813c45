// swift-tools-version: 6.0
//
// A package outside the suite that depends on it by path, as another Swift project would, with
// one executable per library product. Each target imports only its product and does one real
// thing with it; Scripts/check-consumer.sh builds and runs them in CI and checks that the
// classifier's binary links no HTTP stack (no NIO, no Hummingbird).

import PackageDescription

let suite = "AudioCNN-Swift"

let package = Package(
    name: "Consumer",
    dependencies: [.package(name: suite, path: "../..")],
    targets: [
        .executableTarget(name: "MelConsumer", dependencies: [.product(name: "AudioDSP", package: suite)]),
        .executableTarget(name: "GradientConsumer", dependencies: [.product(name: "TensorKit", package: suite)]),
        .executableTarget(name: "TBLoggerConsumer", dependencies: [.product(name: "TBLogger", package: suite)]),
        .executableTarget(name: "ModelConsumer", dependencies: [.product(name: "ResNetAudio", package: suite)]),
        .executableTarget(name: "ESC50Consumer", dependencies: [.product(name: "ESC50", package: suite)]),
        // Training composes the other libraries; its API names the model with ResNetAudio's AudioCNNConfig.
        .executableTarget(
            name: "TrainingConsumer",
            dependencies: [.product(name: "Training", package: suite), .product(name: "ResNetAudio", package: suite)]),
        .executableTarget(name: "ClassifyConsumer", dependencies: [.product(name: "AudioClassification", package: suite)]),
        .executableTarget(name: "DataParallelConsumer", dependencies: [.product(name: "DataParallel", package: suite)]),
    ]
)
