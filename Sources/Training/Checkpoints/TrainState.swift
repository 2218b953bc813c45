import Foundation
import TensorKit

/// Everything a resumed run needs to continue exactly where an uninterrupted run would be: the
/// model's weights and batch-norm statistics, the optimiser's moments and step counts, the
/// scheduler's position, the epochs done, the best accuracy so far and the history. Stored as
/// `last.train-state.safetensors`: the model's state dict under `model.`, the optimiser state
/// under `optimizer.`, the scheduler's under `scheduler.`, the rest as metadata.
///
/// This one file is the run's commit point. The trainer writes it (atomically) before
/// `best.safetensors` and `last.safetensors`, and a resume reads only it, then rewrites those two
/// when a crash left them behind. Two files that must agree (weights in `last`, moments here) can
/// never be replaced together atomically: a kill between the two renames would leave a run that
/// cannot resume.
///
/// Random state needs no storage: the loader derives every batch order, SpecAugment mask and
/// MixUp draw from (seed, epoch, item), and the trainer reseeds dropout from (seed, epoch) at the
/// start of every epoch, so the seed and the epoch are the whole random state at an epoch boundary.
struct TrainState {
    static let format = "audiocnn-swift-train-state"
    static let modelPrefix = "model."
    var epochsCompleted: Int
    var bestAccuracy: Double
    var bestEpoch: Int
    var configurationJSON: String
    var modelConfigJSON: String
    var history: [EpochReport]
    /// The model's state dict after `epochsCompleted` epochs; `nil` when read from a state file
    /// of an earlier version, which kept the weights only in `last.safetensors`.
    var weights: [String: Tensor]?
    /// The class names, or `nil` in files of an earlier version.
    var classes: [String]?
    var optimizer: OptimizationState
    var scheduler: OptimizationState
    /// How many processes trained the run (data-parallel); 1 in files of an earlier version.
    var processes = 1
    /// The operand precision of the convolution and linear GEMMs the run trained with (TensorKit's
    /// current one); `fp32` in files of an earlier version.
    var precision = KernelConfiguration.Precision.float32
    /// TensorKit's kernel settings the run last trained with (``KernelConfiguration/description``);
    /// `nil` in files of an earlier version.
    var kernels: String?

    func write(to url: URL) throws(TrainingError) {
        var writer = SafeTensorsWriter()
        do {
            for (name, tensor) in weights ?? [:] { try writer.add(Self.modelPrefix + name, tensor: tensor) }
            try optimizer.add(to: &writer, prefix: "optimizer.")
            try scheduler.add(to: &writer, prefix: "scheduler.")
        } catch {
            throw .io(path: url.path, reason: "cannot store the model and optimiser state: \(error)")
        }
        writer.metadata["format"] = Self.format
        writer.metadata["epochs_completed"] = String(epochsCompleted)
        writer.metadata["best_accuracy"] = "\(bestAccuracy)"
        writer.metadata["best_epoch"] = String(bestEpoch)
        writer.metadata["processes"] = String(processes)
        writer.metadata["precision"] = precision.rawValue
        if let kernels { writer.metadata["kernels"] = kernels }
        writer.metadata["training_config"] = configurationJSON
        writer.metadata["model_config"] = modelConfigJSON
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        writer.metadata["history"] = String(decoding: (try? encoder.encode(history)) ?? Data("[]".utf8), as: UTF8.self)
        if let classes {
            writer.metadata["classes"] = String(decoding: (try? encoder.encode(classes)) ?? Data("[]".utf8), as: UTF8.self)
        }
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
        return try read(file, url: url)
    }

    /// The state in `bytes`, the contents of the file at `url` (e.g. sent by another process).
    static func read(bytes: [UInt8], url: URL) throws(TrainingError) -> TrainState {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(bytes: bytes, source: url.path)
        } catch {
            throw .cannotResume("\(url.path): \(error)")
        }
        return try read(file, url: url)
    }

    private static func read(_ file: SafeTensorsFile, url: URL) throws(TrainingError) -> TrainState {
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .cannotResume("\(url.path) is not a training-state file (format \"\(meta["format"] ?? "none")\", expected \"\(format)\")")
        }
        guard let epochs = meta["epochs_completed"].flatMap(Int.init),
            let best = meta["best_accuracy"].flatMap(Double.init),
            let bestEpoch = meta["best_epoch"].flatMap(Int.init),
            let config = meta["training_config"], let model = meta["model_config"]
        else {
            throw .cannotResume("\(url.path): the epoch, best accuracy or configuration entries are missing or not numbers")
        }
        let history = (try? JSONDecoder().decode([EpochReport].self, from: Data((meta["history"] ?? "[]").utf8))) ?? []
        let classes = meta["classes"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        var weights: [String: Tensor] = [:]
        do {
            for name in file.names where name.hasPrefix(modelPrefix) {
                weights[String(name.dropFirst(modelPrefix.count))] = try file.tensor(name)
            }
            return TrainState(
                epochsCompleted: epochs, bestAccuracy: best, bestEpoch: bestEpoch,
                configurationJSON: config, modelConfigJSON: model, history: history,
                weights: weights.isEmpty ? nil : weights, classes: classes,
                optimizer: try OptimizationState(from: file, prefix: "optimizer."),
                scheduler: try OptimizationState(from: file, prefix: "scheduler."),
                processes: meta["processes"].flatMap(Int.init) ?? 1,
                precision: meta["precision"].flatMap(KernelConfiguration.Precision.init(rawValue:)) ?? .float32,
                kernels: meta["kernels"])
        } catch {
            throw .cannotResume("\(url.path): \(error)")
        }
    }
}
