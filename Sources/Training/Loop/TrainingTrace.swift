import ESC50
import Foundation
import ResNetAudio
import TensorKit

/// Records a training run step by step, so that another framework can replay the very same
/// steps (a *paired* run): whatever then differs between the two is arithmetic.
///
/// Files written to ``directory`` (safetensors, PyTorch's tensor names):
/// - `weights-00000.safetensors`: the initial weights (a checkpoint `Checkpoint.load` reads), and
///   `weights-NNNNN.safetensors` after each step listed in ``weightSteps``;
/// - `step-NNNNN.safetensors` for each of the first ``steps`` steps (1-based): `input`
///   (`[batch, 1, mels, frames]`, after SpecAugment and MixUp), `targets` (`[batch, classes]`,
///   mixed one-hot before label smoothing), `dropout_mask` (`[batch, features]`, the multiplier
///   the dropout layer applies: 0 or `1/(1-p)`), with the epoch, the learning rate and AdamW's
///   β₁ of the step (OneCycleLR cycles both) and its loss as metadata;
/// - `validation.safetensors`: the validation inputs and labels, as evaluated after each epoch.
///
/// `Benchmarks/paired_replay.py` replays them in PyTorch (float32 and float64).
public struct TrainingTrace: Sendable {
    /// Where the files go (created when missing).
    public var directory: URL
    /// How many steps, from the first, are recorded.
    public var steps: Int
    /// After which steps the weights are written (0 is the initial weights).
    public var weightSteps: Set<Int>

    /// A trace of the first `steps` steps, with the weights at `weightSteps`.
    public init(directory: URL, steps: Int, weightSteps: Set<Int> = [0, 1, 10, 50, 150]) {
        self.directory = directory
        self.steps = steps
        self.weightSteps = weightSteps
    }

    func url(_ kind: String, _ step: Int) -> URL {
        directory.appendingPathComponent(String(format: "%@-%05d.safetensors", kind, step))
    }

    /// Writes the inputs of global step `step` (1-based), with the dropout mask the model's
    /// dropout layer drew from `dropoutGenerator` (its generator as it was before the step).
    func recordStep(
        _ step: Int, epoch: Int, batch: Batch, targets: [Float], classCount: Int, model: AudioCNN,
        dropoutGenerator: RandomGenerator, learningRate: Double, beta1: Double, loss: Double
    ) throws(TrainingError) {
        let features = model.fc.weight.shape[1]
        var generator = dropoutGenerator
        let p = model.dropout.p
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        let mask = (0..<(batch.count * features)).map { _ in p > 0 ? (generator.nextUnitFloat() < p ? 0 : scale) : 1 }
        var writer = SafeTensorsWriter(metadata: [
            "epoch": String(epoch), "step": String(step), "learning_rate": "\(learningRate)", "beta1": "\(beta1)", "loss": "\(loss)",
            "item_indices": batch.itemIndices.map(String.init).joined(separator: ","),
        ])
        do {
            try writer.add("input", shape: batch.shape, floats: batch.features)
            try writer.add("targets", shape: [batch.count, classCount], floats: targets)
            try writer.add("dropout_mask", shape: [batch.count, features], floats: mask)
            try writer.write(to: url("step", step))
        } catch {
            throw .io(path: url("step", step).path, reason: "cannot write the trace: \(error)")
        }
    }

    /// Writes every validation batch of `loader` as one tensor with its labels.
    func recordValidation(_ loader: DataLoader) throws(TrainingError) {
        var features: [Float] = [], labels: [Int64] = [], shape: [Int] = []
        let batches = loader.epoch(0)
        defer { batches.cancel() }
        let target = directory.appendingPathComponent("validation.safetensors")
        do {
            while let batch = try batches.next() {
                features += batch.features
                labels += batch.labels.map(Int64.init)
                shape = batch.shape
            }
            shape[0] = labels.count
            var writer = SafeTensorsWriter()
            try writer.add("input", shape: shape, floats: features)
            try writer.add("labels", shape: [labels.count], int64s: labels)
            try writer.write(to: target)
        } catch {
            throw .io(path: target.path, reason: "cannot write the trace: \(error)")
        }
    }
}
