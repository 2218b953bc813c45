import Foundation
import TensorKit
import _TestSupport
@testable import ResNetAudio

/// The PyTorch reference files of `Scripts/fixtures/make_resnet_fixtures.py`, and the models
/// they were made with: the same synthetic weights (a hash of each name) on both sides.
enum PyTorchFixtures {
    /// `Tests/Fixtures/ResNetAudio/<name>`.
    static func file(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: Fixtures.url("ResNetAudio", name))
    }

    /// The model of `file`'s `config` metadata with the synthetic weights (in training mode).
    static func model(from file: SafeTensorsFile) throws -> AudioCNN {
        let config = try JSONDecoder().decode(AudioCNNConfig.self, from: Data(file.metadata["config"]!.utf8))
        let model = try AudioCNN(config: config, seed: 1)
        try model.loadStateDict(Synthetic.state(for: model))
        return model
    }
}
