import AudioDSP
import DataParallel
import ESC50
import Foundation
import ResNetAudio
import TBLogger
import TensorKit

/// Trains an `AudioCNN` (ResNetAudio) with the reference recipe (see ``TrainingConfiguration``), validating
/// after every epoch, logging to TensorBoard and writing checkpoints.
///
/// Files in ``outputDirectory``: `best.safetensors` (highest validation accuracy so far),
/// `last.safetensors` (after the latest epoch) and `last.train-state.safetensors` (weights,
/// optimiser, scheduler, epoch and history), each written atomically, the state first: it alone
/// is what ``run(resume:stopAfterEpoch:)`` with `resume: true` continues from, so a run killed at
/// any moment resumes from its last finished epoch and computes the same weights as an
/// uninterrupted run (the resume also rewrites `best`/`last` if the kill came before them).
///
/// ```swift
/// let data = try TrainingData.esc50(directory: esc50, validationFold: 5)
/// let trainer = try Trainer(configuration: TrainingConfiguration(), model: .resnet34(classes: data.classes.count),
///                           data: data, outputDirectory: out, logDirectory: runs)
/// let summary = try trainer.run()
/// ```
public final class Trainer {
    /// The hyper-parameters.
    public let configuration: TrainingConfiguration
    /// The model's shape; its class count must equal the data's.
    public let modelConfig: AudioCNNConfig
    /// The clips.
    public let data: TrainingData
    /// Where checkpoints go (created when missing).
    public let outputDirectory: URL
    /// Where TensorBoard event files go, or `nil` for none.
    public let logDirectory: URL?
    /// Train together with other processes (see ``DataParallelTraining``), or `nil` (the
    /// default) to train alone.
    public var dataParallel: DataParallelTraining?
    /// Called after every training batch (e.g. to draw a progress bar); on rank 0 only in a
    /// data-parallel run, with its own part's loss.
    public var onBatch: ((BatchProgress) -> Void)?
    /// Called after every epoch with its report and whether it was the best so far (on rank 0
    /// only in a data-parallel run).
    public var onEpoch: ((EpochReport, Bool) -> Void)?
    /// Called with each warning about a run that goes on regardless (on rank 0 only in a
    /// data-parallel run): a resume with other kernel settings than the run last trained with
    /// (TensorKit's `KernelConfiguration`: kernel set, Winograd tiles, threads), whose later
    /// epochs then round differently from an uninterrupted run's.
    public var onWarning: ((String) -> Void)?
    /// Record the run step by step for a paired replay in another framework (see
    /// ``TrainingTrace``), or `nil` (the default). One process only, from the first epoch.
    public var trace: TrainingTrace?
    /// What summing gradients across processes cost so far (zero without ``dataParallel``).
    public private(set) var communication = GradientBuckets.Statistics()

    /// `best.safetensors` in ``outputDirectory``.
    public var bestCheckpointURL: URL { outputDirectory.appendingPathComponent("best.safetensors") }
    /// `last.safetensors` in ``outputDirectory``.
    public var lastCheckpointURL: URL { outputDirectory.appendingPathComponent("last.safetensors") }
    /// `last.train-state.safetensors` in ``outputDirectory``.
    public var stateURL: URL { outputDirectory.appendingPathComponent("last.train-state.safetensors") }

    /// A trainer; nothing is read or written until ``run(resume:stopAfterEpoch:)``.
    /// - Throws: ``TrainingError/invalidConfiguration(_:)`` for a bad hyper-parameter or a model
    ///   whose class count differs from the data's.
    public init(
        configuration: TrainingConfiguration, model modelConfig: AudioCNNConfig, data: TrainingData,
        outputDirectory: URL, logDirectory: URL? = nil
    ) throws(TrainingError) {
        try configuration.validate()
        do { try modelConfig.validate() } catch { throw .invalidConfiguration("model: \(error)") }
        guard modelConfig.numClasses == data.classes.count else {
            throw .invalidConfiguration("the model has \(modelConfig.numClasses) outputs but the data has \(data.classes.count) classes")
        }
        self.configuration = configuration
        self.modelConfig = modelConfig
        self.data = data
        self.outputDirectory = outputDirectory
        self.logDirectory = logDirectory
    }

    /// Trains until all ``TrainingConfiguration/epochs`` are done, or until `stopAfterEpoch`
    /// epochs are (to split a run into sessions; the schedule still spans every epoch).
    ///
    /// - Parameters:
    ///   - resume: continue the run whose `last` checkpoint is in ``outputDirectory``.
    ///     Without it, an output directory that already holds a run is an error rather than
    ///     silently overwritten.
    ///   - stopAfterEpoch: stop once this many epochs are done (counting earlier sessions);
    ///     `nil` runs to the end.
    /// - Returns: the history and the best accuracy, including earlier sessions of the run.
    /// - Throws: ``TrainingError`` naming the file or batch at fault: an output directory holding
    ///   another run, a missing or mismatched state to resume, unreadable clips, a failed write.
    @discardableResult
    public func run(resume: Bool = false, stopAfterEpoch: Int? = nil) throws(TrainingError) -> TrainingSummary {
        let group = dataParallel?.group
        let isRoot = (group?.rank ?? 0) == 0
        if let group, configuration.batchSize < group.size {
            throw .invalidConfiguration(
                "a batch of \(configuration.batchSize) clips cannot be split across \(group.size) processes; use --batch \(group.size) or more"
            )
        }
        if isRoot {
            try prepareOutputDirectory(resume: resume)
            try writeSkippedClips()
        }
        let shard = group.map { DataShard(index: $0.rank, count: $0.size) }
        let trainLoader = try makeLoader(items: data.train, training: true, shard: shard)
        let validationLoader = try makeLoader(items: data.validation, training: false, shard: shard)
        // In a data-parallel run, a last batch with fewer clips than processes is skipped by all.
        let stepsPerEpoch = (0..<trainLoader.batchesPerEpoch).filter {
            trainLoader.globalBatchSize(ofBatch: $0) >= (group?.size ?? 1)
        }.count

        let model: AudioCNN
        do { model = try AudioCNN(config: modelConfig, seed: configuration.seed) } catch {
            throw .invalidConfiguration("model: \(error)")
        }
        let optimizer: AdamW
        let scheduler: OneCycleLR
        do {
            optimizer = try AdamW(
                model.parameters(), learningRate: configuration.learningRate,
                weightDecay: configuration.weightDecay)
            scheduler = try OneCycleLR(
                optimizer: optimizer, maxLearningRate: configuration.maxLearningRate,
                totalSteps: configuration.epochs * stepsPerEpoch,
                pctStart: configuration.warmupFraction)
        } catch {
            throw .invalidConfiguration("optimiser: \(error)")
        }

        var history: [EpochReport] = []
        var best = (accuracy: -1.0, epoch: 0)
        var startEpoch = 0
        if resume {
            let state = try restore(model: model, optimizer: optimizer, scheduler: scheduler)
            history = state.history
            best = (state.bestAccuracy, state.bestEpoch)
            startEpoch = state.epochsCompleted
        }
        var buckets: GradientBuckets?
        if let dataParallel {
            do {
                try dataParallel.group.broadcastState(of: model)
            } catch {
                throw .distributed("copying rank 0's weights: \(error)")
            }
            dataParallel.group.synchronizeBatchNorm(in: model, dataParallel.synchronizeBatchNorm)
            buckets = GradientBuckets(
                parameters: model.parameters(), group: dataParallel.group, bucketBytes: dataParallel.bucketBytes)
        }

        if let trace {
            guard dataParallel == nil, startEpoch == 0 else {
                throw .invalidConfiguration("a training trace records one process from the first epoch")
            }
            do { try FileManager.default.createDirectory(at: trace.directory, withIntermediateDirectories: true) } catch {
                throw .io(path: trace.directory.path, reason: "cannot create the trace folder: \(error.localizedDescription)")
            }
            try trace.recordValidation(validationLoader)
            try save(model, to: trace.url("weights", 0), epoch: 0, accuracy: 0)
        }
        let logger =
            try logDirectory.flatMap { url throws(TrainingError) in
                guard isRoot else { return nil }
                return try RunLogger(directory: url, resumingAt: resume ? startEpoch : nil)
            } as RunLogger?
        if startEpoch == 0 {
            logger?.logText(configurationText())
            if !data.skipped.isEmpty { logger?.logText(data.skipped.map(\.description).joined(separator: "\n"), tag: "Skipped clips") }
        }
        let endEpoch = min(configuration.epochs, max(startEpoch, stopAfterEpoch ?? configuration.epochs))
        var lastConfusion = ConfusionMatrix(classes: data.classes)

        for epoch in startEpoch..<endEpoch {
            let started = Date()
            model.train()
            // Each process draws its own dropout masks; rank 0's are those of a single process.
            let dropoutSeed = Self.mix(configuration.seed, UInt64(epoch))
            model.dropout.generator = RandomGenerator(
                seed: (group?.rank ?? 0) == 0 ? dropoutSeed : Self.mix(dropoutSeed, UInt64(group!.rank)))
            let trainLoss = try trainEpoch(
                epoch, model: model, optimizer: optimizer, scheduler: scheduler,
                loader: trainLoader, logger: logger, started: started, buckets: buckets)
            let trainSeconds = Date().timeIntervalSince(started)
            if let dataParallel, !dataParallel.synchronizeBatchNorm {
                do { try dataParallel.group.broadcastBuffers(of: model) } catch {
                    throw .distributed("copying rank 0's batch-norm statistics: \(error)")
                }
            }
            let validation = try Evaluator.evaluate(
                model, on: validationLoader, classes: data.classes,
                labelSmoothing: configuration.labelSmoothing, group: group)
            lastConfusion = validation.confusion
            let report = EpochReport(
                epoch: epoch + 1, trainLoss: trainLoss, validationLoss: validation.loss,
                validationAccuracy: validation.accuracy, learningRate: optimizer.learningRate,
                seconds: Date().timeIntervalSince(started),
                clipsPerSecond: Double(data.train.count) / max(trainSeconds, 1e-9))
            history.append(report)
            let isBest = validation.accuracy > best.accuracy
            if isBest { best = (validation.accuracy, epoch + 1) }
            // Logged before the commit: after a kill in between, the resumed run recomputes this
            // epoch bit for bit and logs it again, and its purge step hides the first copy in
            // TensorBoard; logged after, a kill would leave a gap instead.
            logger?.logEpoch(report, confusion: validation.confusion, step: epoch)
            guard isRoot else { continue }
            // The state file is the commit point (see TrainState); best and last follow it, and
            // a resume rewrites them if a kill came first.
            try TrainState(
                epochsCompleted: epoch + 1, bestAccuracy: best.accuracy, bestEpoch: best.epoch,
                configurationJSON: configuration.json, modelConfigJSON: Self.json(modelConfig),
                history: history, weights: model.stateDict(), classes: data.classes,
                optimizer: optimizer.stateDict(), scheduler: scheduler.stateDict(),
                processes: group?.size ?? 1, precision: KernelConfiguration.current.precision,
                kernels: KernelConfiguration.current.description
            )
            .write(to: stateURL)
            if isBest { try save(model, to: bestCheckpointURL, epoch: epoch + 1, accuracy: validation.accuracy) }
            try save(model, to: lastCheckpointURL, epoch: epoch + 1, accuracy: validation.accuracy)
            onEpoch?(report, isBest)
        }
        let finished = endEpoch == configuration.epochs
        if finished, let logger {
            logger.logHyperParameters(
                hyperParameters(),
                metrics: [
                    "hparam/best_accuracy": max(best.accuracy, 0),
                    "hparam/final_accuracy": history.last?.validationAccuracy ?? 0,
                ])
        }
        try logger?.close()
        return TrainingSummary(
            history: history, bestAccuracy: max(best.accuracy, 0), bestEpoch: best.epoch,
            lastConfusion: lastConfusion, bestCheckpoint: bestCheckpointURL,
            lastCheckpoint: lastCheckpointURL, finished: finished)
    }

    // MARK: - One epoch

    private func trainEpoch(
        _ epoch: Int, model: AudioCNN, optimizer: AdamW, scheduler: OneCycleLR,
        loader: DataLoader, logger: RunLogger?, started: Date, buckets: GradientBuckets?
    ) throws(TrainingError) -> Double {
        let classCount = data.classes.count
        let group = dataParallel?.group
        let batches = loader.epoch(epoch)
        defer { batches.cancel() }
        // `totalLoss` sums each step's loss over the global batch (in a data-parallel run, this
        // process's share of it until the sum at the end); `ownLoss` this process's own.
        var totalLoss = 0.0, ownLoss = 0.0, batchIndex = 0, clips = 0
        do {
            while let batch = try batches.next() {
                if let group, batch.globalCount < group.size { continue }  // skipped by every process
                try Evaluator.checkLabels(batch, classCount: classCount)
                if epoch == 0, batchIndex == 0 { logger?.logInputs(batch, classes: data.classes) }
                let input = try Tensor(shape: batch.shape, scalars: batch.features)
                // Mixed one-hot targets: CE is linear in its target, so CE against
                // λ·onehot(a) + (1-λ)·onehot(b), smoothed, is λ·CE(y_a) + (1-λ)·CE(y_b).
                let targets = try Tensor(
                    shape: [batch.count, classCount],
                    scalars: batch.targets(classCount: classCount))
                optimizer.zeroGrad()
                let dropoutGenerator = model.dropout.generator  // before the forward pass draws its mask
                let loss = crossEntropy(model(input), targets: targets, labelSmoothing: configuration.labelSmoothing)
                let value = Double(loss.scalar)
                guard value.isFinite else {
                    throw TrainingError.batchFailed(
                        "the loss of epoch \(epoch + 1), batch \(batchIndex + 1) is \(value); lower the learning rate")
                }
                if let buckets {
                    // This part's mean loss weighted by its share of the batch: the summed
                    // gradients are those of the global batch's mean loss.
                    let share = Float(batch.count) / Float(batch.globalCount)
                    loss.backward(gradient: Tensor(repeating: share, shape: loss.shape), onGradientReady: buckets.gradientReady)
                    try buckets.synchronize()
                    communication = buckets.statistics
                    totalLoss += value * Double(share)
                } else {
                    loss.backward()
                    totalLoss += value
                }
                let step = epoch * loader.batchesPerEpoch + batchIndex + 1
                if let trace, step <= trace.steps {
                    try trace.recordStep(
                        step, epoch: epoch + 1, batch: batch, targets: targets.scalars, classCount: classCount,
                        model: model, dropoutGenerator: dropoutGenerator, learningRate: optimizer.learningRate, beta1: optimizer.beta1,
                        loss: value)
                }
                try optimizer.step()
                try scheduler.step()
                if let trace, trace.weightSteps.contains(step) {
                    try save(model, to: trace.url("weights", step), epoch: epoch + 1, accuracy: 0)
                }
                ownLoss += value
                batchIndex += 1
                clips += batch.globalCount
                guard (group?.rank ?? 0) == 0 else { continue }
                onBatch?(
                    BatchProgress(
                        epoch: epoch + 1, epochs: configuration.epochs, batch: batchIndex,
                        batches: loader.batchesPerEpoch, clips: clips,
                        meanLoss: ownLoss / Double(batchIndex),
                        seconds: Date().timeIntervalSince(started)))
            }
            if let group { totalLoss = try group.sum([totalLoss])[0] }
        } catch let error as TrainingError {
            throw error
        } catch let error as DataParallelError {
            throw .distributed("epoch \(epoch + 1), batch \(batchIndex + 1): \(error)")
        } catch {
            throw .batchFailed("epoch \(epoch + 1), batch \(batchIndex + 1): \(error)")
        }
        return totalLoss / Double(max(batchIndex, 1))
    }

    // MARK: - Set-up

    private func makeLoader(items: [LoaderItem], training: Bool, shard: DataShard?) throws(TrainingError) -> DataLoader {
        var config = DataLoader.Configuration(
            batchSize: configuration.batchSize, shuffle: training,
            seed: configuration.seed, prefetch: 4, workers: 2, shard: shard)
        if training {
            if configuration.frequencyMask > 0 || configuration.timeMask > 0 {
                config.augmentations = [
                    SpecAugment(
                        frequencyMaskParameter: configuration.frequencyMask,
                        timeMaskParameter: configuration.timeMask,
                        frequencyMaskCount: configuration.frequencyMask > 0 ? 1 : 0,
                        timeMaskCount: configuration.timeMask > 0 ? 1 : 0)
                ]
            }
            if configuration.mixUpProbability > 0 {
                do {
                    config.mixUp = try MixUp(probability: configuration.mixUpProbability, alpha: configuration.mixUpAlpha)
                } catch {
                    throw .invalidConfiguration("MixUp: \(error)")
                }
            }
        }
        do {
            return try DataLoader(items: items, source: data.features, configuration: config)
        } catch {
            throw .invalidData("\(error)")
        }
    }

    func save(_ model: AudioCNN, to url: URL, epoch: Int, accuracy: Double) throws(TrainingError) {
        let metadata = CheckpointMetadata(
            classes: data.classes, modelConfig: modelConfig,
            melConfigJSON: Self.json(data.melConfig), epoch: epoch,
            validationAccuracy: accuracy,
            extra: [
                "training_config": configuration.json, "seed": String(configuration.seed),
                "precision": KernelConfiguration.current.precision.rawValue,
                // The kernels' choices that change the arithmetic (e.g. training's Winograd tiles).
                "kernels": KernelConfiguration.current.description,
            ])
        do {
            try Checkpoint.save(model, metadata: metadata, to: url)
        } catch {
            throw .io(path: url.path, reason: "\(error)")
        }
    }

    private func hyperParameters() -> [String: HParamValue] {
        let c = configuration
        return [
            "epochs": .number(Double(c.epochs)), "batch_size": .number(Double(c.batchSize)),
            "lr": .number(c.learningRate), "max_lr": .number(c.maxLearningRate),
            "weight_decay": .number(c.weightDecay), "label_smoothing": .number(Double(c.labelSmoothing)),
            "mixup": .number(c.mixUpProbability), "seed": .number(Double(c.seed)),
            "model": .string(Self.json(modelConfig)), "classes": .number(Double(data.classes.count)),
        ]
    }

    private func configurationText() -> String {
        "training configuration: \(configuration.json)\n\nmodel: \(Self.json(modelConfig))\n\nMel: \(Self.json(data.melConfig))\n\n"
            + "clips: \(data.train.count) training, \(data.validation.count) validation; classes: \(data.classes.joined(separator: ", "))"
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    /// SplitMix64 of `seed` and `epoch`: a well-spread dropout seed per epoch (the output of
    /// the generator's `epoch + 1`-th step from `seed`).
    static func mix(_ seed: UInt64, _ epoch: UInt64) -> UInt64 {
        SplitMix64.mix(seed &+ 0x9E37_79B9_7F4A_7C15 &* epoch)
    }
}
