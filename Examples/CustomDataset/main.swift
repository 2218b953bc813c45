// Train on your own sounds: one folder per class, the folder's name is the class.
//
//   my-sounds/
//     doorbell/  a.wav b.flac ...
//     kettle/    ...
//
// SoundDataset reads the folders (symbolic links followed; a fold1/ ... foldN/ level above the
// class folders is used when present, else a seeded stratified split into 5 folds) and verify()
// decodes every clip and lists every problem; fold 5 is held out for validation. Any format and
// sample rate libsndfile reads works: clips are resampled to 44.1 kHz and padded or cut to 5 s.
// `audiocnn train --data my-sounds` does the same from the command line.
//
// Usage: swift run -c release CustomDataset <folder> [epochs] [small|resnet34]
import AudioDSP
import ESC50
import Foundation
import ResNetAudio
import Training

let args = Array(CommandLine.arguments.dropFirst())
guard let folder = args.first else {
    FileHandle.standardError.write(Data("usage: CustomDataset <folder of class folders> [epochs] [small|resnet34]\n".utf8))
    exit(2)
}

do {
    let dataset = try SoundDataset(directory: URL(fileURLWithPath: folder), layout: .folders)
    let report = dataset.verify(validationFold: 5)
    for problem in report.problems { print(problem) }
    for (label, name) in dataset.classes.enumerated() {
        print("\(name): \(dataset.clips.count { $0.target == label }) clips")
    }
    // Refuses a set with errors; pass skipInvalid: true to train on the rest.
    let data = try TrainingData.split(of: dataset, validationFold: 5, report: report)
    let classes = data.classes
    let train = data.train
    var configuration = TrainingConfiguration()
    configuration.epochs = args.count > 1 ? Int(args[1]) ?? 30 : 30
    configuration.batchSize = min(32, train.count)
    let model: AudioCNNConfig = args.count > 2 && args[2] == "resnet34" ? .resnet34(classes: classes.count) : .small(classes: classes.count)
    let trainer = try Trainer(
        configuration: configuration, model: model, data: data,
        outputDirectory: URL(fileURLWithPath: "checkpoints/custom-\(Int(Date().timeIntervalSince1970))"),
        logDirectory: URL(fileURLWithPath: "runs/custom"))
    trainer.onEpoch = { report, isBest in
        print(
            String(
                format: "epoch %d: train loss %.4f, validation accuracy %.1f%%", report.epoch, report.trainLoss,
                report.validationAccuracy * 100) + (isBest ? " (best)" : ""))
    }
    let summary = try trainer.run()
    print(summary.lastConfusion.text)
    print("best checkpoint: \(summary.bestCheckpoint.path)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
