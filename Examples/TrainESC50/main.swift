// The training loop of `audiocnn train`, written out with the libraries for people who want
// their own loop: ESC-50 folds, log-Mel features, SpecAugment + MixUp, AdamW + OneCycleLR,
// label smoothing, evaluation under withNoGrad, a checkpoint.
//
// Usage: swift run -c release TrainESC50 <ESC-50 folder> [epochs] [--esc10]
// e.g.   swift run -c release TrainESC50 ../shared/esc50 5 --esc10
import AudioDSP
import ESC50
import Foundation
import ResNetAudio
import TensorKit

let args = CommandLine.arguments.dropFirst().filter { $0 != "--esc10" }
guard let folder = args.first else {
    FileHandle.standardError.write(Data("usage: TrainESC50 <ESC-50 folder> [epochs] [--esc10]\n".utf8))
    exit(2)
}
let epochs = args.dropFirst().first.flatMap { Int($0) } ?? 10
let (batchSize, labelSmoothing, seed): (Int, Float, UInt64) = (32, 0.1, 0)

do {
    // 1. Data: the ESC-50 layout, the last fold held out for validation.
    var dataset = try SoundDataset(directory: URL(fileURLWithPath: folder))
    if CommandLine.arguments.contains("--esc10") { dataset = try dataset.esc10Subset() }
    let validationFold = dataset.folds.last!
    let split = try dataset.split(validationFolds: [validationFold])
    let melConfig = MelConfig()  // 44.1 kHz, n_fft 1024, hop 512, 128 Mel bands
    let features = try LogMelFeatures(config: melConfig)
    let train = try DataLoader(
        items: dataset.loaderItems(split.train), source: features,
        configuration: .init(
            batchSize: batchSize, shuffle: true, seed: seed, workers: 2,
            augmentations: [SpecAugment(frequencyMaskParameter: 30, timeMaskParameter: 80)],
            mixUp: try MixUp(probability: 0.3, alpha: 0.2)))
    let validation = try DataLoader(
        items: dataset.loaderItems(split.validation), source: features,
        configuration: .init(batchSize: batchSize, workers: 2))
    let classCount = dataset.classes.count
    print("\(split.train.count) training clips, \(split.validation.count) validation clips (fold \(validationFold)), \(classCount) classes")

    // 2. Model, optimiser and schedule: AdamW 5e-4 (wd 0.01), OneCycleLR to 2e-3, stepped per batch.
    let model = try AudioCNN(config: .resnet34(classes: classCount), seed: seed)
    let optimizer = try AdamW(model.parameters(), learningRate: 5e-4, weightDecay: 0.01)
    let scheduler = try OneCycleLR(
        optimizer: optimizer, maxLearningRate: 2e-3,
        totalSteps: epochs * train.batchesPerEpoch, pctStart: 0.1)

    var best = 0.0
    for epoch in 0..<epochs {
        // 3. One epoch of training. Batch.targets mixes the one-hot targets as MixUp mixed the
        //    inputs, so one cross-entropy is λ·CE(y_a) + (1-λ)·CE(y_b).
        model.train()
        var totalLoss = 0.0, steps = 0
        let batches = train.epoch(epoch)
        while let batch = try batches.next() {
            let input = try Tensor(shape: batch.shape, scalars: batch.features)
            let targets = try Tensor(shape: [batch.count, classCount], scalars: batch.targets(classCount: classCount))
            optimizer.zeroGrad()
            let loss = crossEntropy(model(input), targets: targets, labelSmoothing: labelSmoothing)
            loss.backward()
            try optimizer.step()
            try scheduler.step()
            totalLoss += Double(loss.scalar)
            steps += 1
        }

        // 4. Validation in eval mode without gradients.
        model.eval()
        var correct = 0, seen = 0
        let validationBatches = validation.epoch(0)
        while let batch = try validationBatches.next() {
            let input = try Tensor(shape: batch.shape, scalars: batch.features)
            let logits = withNoGrad { model(input) }.scalars
            for i in 0..<batch.count {
                let row = logits[(i * classCount)..<((i + 1) * classCount)]
                if row.firstIndex(of: row.max()!)! - i * classCount == batch.labels[i] { correct += 1 }
                seen += 1
            }
        }
        let accuracy = Double(correct) / Double(seen)
        print(
            String(
                format: "epoch %d: train loss %.4f, validation accuracy %.2f%%, lr %.2e",
                epoch + 1, totalLoss / Double(steps), accuracy * 100, optimizer.learningRate))

        // 5. Keep the best model, with the class names and the front-end's configuration.
        if accuracy > best {
            best = accuracy
            let mel = String(decoding: try JSONEncoder().encode(melConfig), as: UTF8.self)
            try Checkpoint.save(
                model,
                metadata: CheckpointMetadata(
                    classes: dataset.classes, modelConfig: model.config, melConfigJSON: mel,
                    epoch: epoch + 1, validationAccuracy: accuracy), to: URL(fileURLWithPath: "best.safetensors"))
        }
    }
    print(String(format: "best validation accuracy %.2f%%, saved to best.safetensors", best * 100))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
