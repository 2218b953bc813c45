import DataParallel
import ESC50
import Foundation
import ResNetAudio
import TensorKit

/// The result of evaluating a model on a set of clips.
public struct EvaluationResult: Sendable {
    /// Mean over batches of the cross-entropy (with the run's label smoothing), as the reference
    /// project reports its validation loss.
    public var loss: Double
    /// Truth against prediction for every clip.
    public var confusion: ConfusionMatrix
    /// The predicted class of each item, in the loader's item order (-1 for the items another
    /// process evaluated, in a data-parallel evaluation).
    public var predictions: [Int]
    /// `confusion.accuracy`.
    public var accuracy: Double { confusion.accuracy }
}

/// Runs a model over every item of a loader in evaluation mode, without recording gradients.
public enum Evaluator {
    /// Evaluates `model` on `loader` (which should not shuffle or augment).
    ///
    /// The model is put in evaluation mode (batch-norm running statistics, no dropout) and
    /// restored to the mode it had afterwards.
    ///
    /// In a data-parallel run, each process passes a loader sharded like the others
    /// (`DataLoader.Configuration.shard`) and its `group`: each evaluates its part of every
    /// batch, and the loss and the confusion matrix are summed over the group, so every process
    /// returns the result one process would compute over the whole set.
    /// - Throws: ``TrainingError/batchFailed(_:)`` when a batch cannot be loaded or its labels
    ///   do not fit the model; ``TrainingError/distributed(_:)`` when the group's sum fails.
    public static func evaluate(
        _ model: AudioCNN, on loader: DataLoader, classes: [String],
        labelSmoothing: Float = 0, group: (any ProcessGroup)? = nil
    ) throws(TrainingError) -> EvaluationResult {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var confusion = ConfusionMatrix(classes: classes)
        var predictions = [Int](repeating: -1, count: loader.items.count)
        var totalLoss = 0.0, batchCount = 0
        let batches = loader.epoch(0)
        defer { batches.cancel() }
        do {
            while let batch = try batches.next() {
                batchCount += 1
                guard batch.count > 0 else { continue }  // another process's part of a last, small batch
                try checkLabels(batch, classCount: classes.count)
                let input = try Tensor(shape: batch.shape, scalars: batch.features)
                let (loss, predicted) = withNoGrad { () -> (Float, [Int]) in
                    let logits = model(input)
                    let loss = crossEntropy(logits, labels: batch.labels, labelSmoothing: labelSmoothing).scalar
                    return (loss, argmax(logits))
                }
                // This part's share of the batch's mean loss (all of it in a single process).
                totalLoss += Double(loss) * Double(batch.count) / Double(batch.globalCount)
                for (slot, item) in batch.itemIndices.enumerated() {
                    predictions[item] = predicted[slot]
                    confusion.add(truth: batch.labels[slot], prediction: predicted[slot])
                }
            }
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .batchFailed("\(error)")
        }
        if let group {
            do {
                let sums = try group.sum([totalLoss] + confusion.counts.joined().map(Double.init))
                totalLoss = sums[0]
                confusion = ConfusionMatrix(classes: classes, counts: sums.dropFirst().map { Int($0.rounded()) })
            } catch {
                throw .distributed("the evaluation's sums: \(error)")
            }
        }
        return EvaluationResult(
            loss: batchCount == 0 ? 0 : totalLoss / Double(batchCount),
            confusion: confusion, predictions: predictions)
    }

    /// The index of the largest logit of each row of `[batch, classes]` logits (first on ties).
    static func argmax(_ logits: Tensor) -> [Int] {
        let rows = logits.shape[0], cols = logits.shape[1]
        return logits.withUnsafeBufferPointer { p in
            (0..<rows).map { r in
                var best = 0
                for c in 1..<max(cols, 1) where p[r * cols + c] > p[r * cols + best] { best = c }
                return best
            }
        }
    }

    static func checkLabels(_ batch: Batch, classCount: Int) throws(TrainingError) {
        if let bad = (batch.labels + (batch.mix?.partnerLabels ?? [])).first(where: { !(0..<classCount).contains($0) }) {
            throw .batchFailed("label \(bad) is outside the model's \(classCount) classes")
        }
    }
}
