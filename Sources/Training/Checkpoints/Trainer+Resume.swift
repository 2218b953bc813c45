import AudioDSP
import ESC50
import Foundation
import ResNetAudio
import TBLogger
import TensorKit

// Resuming and repairing a run: what `run(resume:)` does before its first epoch, so that a run
// killed at any moment continues from the last finished epoch (see TrainState).
extension Trainer {
    /// Creates the output directory and checks it suits `resume`: a new run needs an empty one,
    /// a resumed run one holding a train state.
    func prepareOutputDirectory(resume: Bool) throws(TrainingError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: outputDirectory.path, reason: "cannot create the output directory: \(error.localizedDescription)")
        }
        removeStaleTemporaryFiles()
        let hasRun = fm.fileExists(atPath: lastCheckpointURL.path) || fm.fileExists(atPath: stateURL.path)
        if resume, !fm.fileExists(atPath: stateURL.path) {
            throw .cannotResume(
                "\(outputDirectory.path) holds no last.train-state.safetensors (no epoch of a run finished there); run without --resume to start"
            )
        }
        if !resume, hasRun {
            throw .io(
                path: outputDirectory.path,
                reason: "already holds a training run (last.safetensors); pass --resume to continue it, or choose another output directory")
        }
    }

    /// Writes `skipped-clips.txt` in the output directory, one line per clip the data left out
    /// for its errors (``TrainingData/skipped``); nothing when none was.
    func writeSkippedClips() throws(TrainingError) {
        guard !data.skipped.isEmpty else { return }
        let url = outputDirectory.appendingPathComponent("skipped-clips.txt")
        do {
            try Data((data.skipped.map(\.description).joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, reason: "cannot write the list of skipped clips: \(error.localizedDescription)")
        }
    }

    /// Loads the last train state into `model`, `optimizer` and `scheduler` after checking it
    /// belongs to this configuration (and to TensorKit's current operand precision), and returns it.
    func restore(model: AudioCNN, optimizer: AdamW, scheduler: OneCycleLR) throws(TrainingError) -> TrainState {
        let state = try readState()
        guard state.configurationJSON == configuration.json else {
            throw .cannotResume(
                "the run in \(outputDirectory.path) was trained with \(state.configurationJSON), not \(configuration.json): resume with the same options"
            )
        }
        guard state.modelConfigJSON == Self.json(modelConfig) else {
            throw .cannotResume("the run in \(outputDirectory.path) trains model \(state.modelConfigJSON), not \(Self.json(modelConfig))")
        }
        // Another operand precision would round every step differently from the run's start.
        let precision = KernelConfiguration.current.precision
        guard state.precision == precision else {
            throw .cannotResume(
                "the run in \(outputDirectory.path) was trained at precision \(state.precision), not \(precision): "
                    + "resume it with the same precision (--precision \(state.precision))")
        }
        // Other kernel settings still train the same model, with other rounding: say so, go on.
        let kernels = KernelConfiguration.current.description
        if let stored = state.kernels, stored != kernels, (dataParallel?.group.rank ?? 0) == 0 {
            onWarning?(
                "resuming the run in \(outputDirectory.path) with other kernel settings than it last trained with ("
                    + Self.differences(from: stored, to: kernels)
                    + "): its next epochs round differently from an uninterrupted run's; the TENSORKIT_* variables of that session give its settings back"
            )
        }
        let weights: [String: Tensor]
        let classes: [String]
        if let stored = state.weights, let storedClasses = state.classes {
            (weights, classes) = (stored, storedClasses)
        } else {
            // A state file of an earlier version: the weights are only in last.safetensors.
            let loaded: (model: AudioCNN, metadata: CheckpointMetadata)
            do { loaded = try Checkpoint.load(from: lastCheckpointURL) } catch {
                throw .cannotResume("\(error)")
            }
            guard loaded.metadata.epoch == state.epochsCompleted else {
                throw .cannotResume(
                    "\(lastCheckpointURL.path) is from epoch \(loaded.metadata.epoch) but \(stateURL.path) from epoch \(state.epochsCompleted) (interrupted while saving?)"
                )
            }
            (weights, classes) = (loaded.model.stateDict(), loaded.metadata.classes)
        }
        guard classes == data.classes else {
            throw .cannotResume("\(stateURL.path) predicts \(classes), the data has \(data.classes)")
        }
        do {
            try model.loadStateDict(weights, strict: true)
            try optimizer.loadStateDict(state.optimizer)
            try scheduler.loadStateDict(state.scheduler)
        } catch {
            throw .cannotResume("\(stateURL.path): \(error)")
        }
        if (dataParallel?.group.rank ?? 0) == 0 { try repairCheckpoints(after: state, model: model) }
        return state
    }

    /// The fields of two `key=value …` kernel descriptions (``KernelConfiguration/description``)
    /// that differ, as `key old → new` (`none` for a field one of them lacks).
    static func differences(from old: String, to new: String) -> String {
        func fields(_ s: String) -> [(key: String, value: String)] {
            s.split(separator: " ").map { field in
                let parts = field.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        }
        let before = fields(old), after = fields(new)
        let was = Dictionary(before, uniquingKeysWith: { first, _ in first })
        let now = Dictionary(after, uniquingKeysWith: { first, _ in first })
        let keys = after.map(\.key) + before.map(\.key).filter { now[$0] == nil }
        return keys.filter { was[$0] != now[$0] }
            .map { "\($0) \(was[$0] ?? "none") → \(now[$0] ?? "none")" }
            .joined(separator: ", ")
    }

    /// The last train state: read from ``stateURL`` alone, or by rank 0 and sent to every
    /// process of a data-parallel run (the others may run where the output folder is not).
    /// - Throws: ``TrainingError/cannotResume(_:)`` when the state is unreadable or was trained
    ///   by another number of processes.
    func readState() throws(TrainingError) -> TrainState {
        guard let group = dataParallel?.group else {
            let state = try TrainState.read(from: stateURL)
            guard state.processes == 1 else {
                throw .cannotResume(
                    "the run in \(outputDirectory.path) was trained by \(state.processes) processes; resume it with the same number (mpirun -np \(state.processes) ...)"
                )
            }
            return state
        }
        var bytes: [UInt8] = []
        if group.rank == 0 {
            do { bytes = try [UInt8](Data(contentsOf: stateURL)) } catch {
                throw .cannotResume("\(stateURL.path): \(error.localizedDescription)")
            }
        }
        do { bytes = try group.broadcast(bytes: bytes) } catch {
            throw .distributed("sending the train state from rank 0: \(error)")
        }
        let state = try TrainState.read(bytes: bytes, url: stateURL)
        guard state.processes == group.size else {
            throw .cannotResume(
                "the run in \(outputDirectory.path) was trained by \(state.processes) process(es), not \(group.size): resume it with the same number "
                    + "(a different count changes how every batch is split, so the run would not continue as it began)")
        }
        guard state.weights != nil, state.classes != nil else {
            throw .cannotResume(
                "\(stateURL.path) is a train state of an earlier version (weights only in last.safetensors); resume it in one process")
        }
        return state
    }

    /// Rewrites `last.safetensors` (and `best.safetensors` when the latest epoch was the best)
    /// from the restored state when a kill between the state's commit and their writes left them
    /// at an older epoch or absent, so the checkpoints match what an uninterrupted run has.
    func repairCheckpoints(after state: TrainState, model: AudioCNN) throws(TrainingError) {
        let epoch = state.epochsCompleted
        guard epoch > 0 else { return }
        let accuracy = state.history.last?.validationAccuracy ?? state.bestAccuracy
        if state.bestEpoch == epoch, (try? Checkpoint.metadata(at: bestCheckpointURL).epoch) != epoch {
            try save(model, to: bestCheckpointURL, epoch: epoch, accuracy: accuracy)
        }
        if (try? Checkpoint.metadata(at: lastCheckpointURL).epoch) != epoch {
            try save(model, to: lastCheckpointURL, epoch: epoch, accuracy: accuracy)
        }
    }

    /// Deletes the temporary files an atomic write leaves when the process is killed mid-write
    /// (`.<name>.<pid>.<random>.tmp`, see `SafeTensorsWriter.write(to:)`); they are never read,
    /// and a full-size model's would fill the disk over a few crashes.
    func removeStaleTemporaryFiles() {
        let names = [bestCheckpointURL, lastCheckpointURL, stateURL].map { ".\($0.lastPathComponent)." }
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: outputDirectory.path) else { return }
        for entry in entries where entry.hasSuffix(".tmp") && names.contains(where: { entry.hasPrefix($0) }) {
            try? fm.removeItem(at: outputDirectory.appendingPathComponent(entry))
        }
    }
}
