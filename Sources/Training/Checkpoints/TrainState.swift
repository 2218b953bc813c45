import Foundation
import TensorKit

/// Everything besides the weights that a resumed run needs to continue exactly where an
/// uninterrupted run would be: the optimiser's moments and step counts, the scheduler's position,
/// the epochs done, the best accuracy so far and the history. Stored beside `last.safetensors`
/// as `last.train-state.safetensors`: the optimiser state under `optimizer.`, the scheduler's under
/// `scheduler.`, the rest as metadata.
///
/// Random state needs no storage: the loader derives every batch order, SpecAugment mask and
/// MixUp draw from (seed, epoch, item), and the trainer reseeds dropout from (seed, epoch) at the
/// start of every epoch, so the seed and the epoch are the whole random state at an epoch boundary.
struct TrainState {
    static let format = "audiocnn-swift-train-state"
    var epochsCompleted: Int
    var bestAccuracy: Double
    var bestEpoch: Int
    var configurationJSON: String
    var modelConfigJSON: String
    var history: [EpochReport]
    var optimizer: OptimizationState
    var scheduler: OptimizationState

    func write(to url: URL) throws(TrainingError) {
        var writer = SafeTensorsWriter()
        do {
            try optimizer.add(to: &writer, prefix: "optimizer.")
            try scheduler.add(to: &writer, prefix: "scheduler.")
        } catch {
            throw .io(path: url.path, reason: "cannot store the optimiser state: \(error)")
        }
        writer.metadata["format"] = Self.format
        writer.metadata["epochs_completed"] = String(epochsCompleted)
        writer.metadata["best_accuracy"] = "\(bestAccuracy)"
        writer.metadata["best_epoch"] = String(bestEpoch)
        writer.metadata["training_config"] = configurationJSON
        writer.metadata["model_config"] = modelConfigJSON
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        writer.metadata["history"] = String(decoding: (try? encoder.encode(history)) ?? Data("[]".utf8), as: UTF8.self)
        do {
            try writer.write(to: url)
        } catch {
            throw .io(path: url.path, reason: "cannot write the training state: \(error)")
        }
    }

    static func read(from url: URL) throws(TrainingError) -> TrainState {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch {
            throw .cannotResume("\(url.path): \(error)")
        }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .cannotResume("\(url.path) is not a training-state file (format \"\(meta["format"] ?? "none")\", expected \"\(format)\")")
        }
        guard let epochs = meta["epochs_completed"].flatMap(Int.init),
              let best = meta["best_accuracy"].flatMap(Double.init),
              let bestEpoch = meta["best_epoch"].flatMap(Int.init),
              let config = meta["training_config"], let model = meta["model_config"] else {
            throw .cannotResume("\(url.path): the epoch, best accuracy or configuration entries are missing or not numbers")
        }
        let history = (try? JSONDecoder().decode([EpochReport].self, from: Data((meta["history"] ?? "[]").utf8))) ?? []
        do {
            return TrainState(epochsCompleted: epochs, bestAccuracy: best, bestEpoch: bestEpoch,
                              configurationJSON: config, modelConfigJSON: model, history: history,
                              optimizer: try OptimizationState(from: file, prefix: "optimizer."),
                              scheduler: try OptimizationState(from: file, prefix: "scheduler."))
        } catch {
            throw .cannotResume("\(url.path): \(error)")
        }
    }
}
