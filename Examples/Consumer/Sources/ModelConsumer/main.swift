// ResNetAudio alone: load a checkpoint and run the model on a spectrogram-shaped input.
//   ModelConsumer CHECKPOINT.safetensors
import Foundation
import ResNetAudio
import TensorKit

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: ModelConsumer CHECKPOINT.safetensors\n".utf8))
    exit(2)
}
do {
    let (model, metadata) = try Checkpoint.load(from: URL(fileURLWithPath: CommandLine.arguments[1]))
    model.eval()
    var generator = RandomGenerator(seed: 1)
    let input = Initialization.uniform([2, 1, 128, 64], bound: 1, generator: &generator)
    let logits = withNoGrad { model(input) }
    print("\(metadata.classes.count) classes; logits \(logits.shape), finite: \(logits.scalars.allSatisfy(\.isFinite))")
    exit(logits.shape == [2, metadata.classes.count] && logits.scalars.allSatisfy(\.isFinite) ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("ModelConsumer: \(error)\n".utf8))
    exit(1)
}
