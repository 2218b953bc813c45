// Train on your own sounds: one folder per class, the folder's name is the class.
//
//   my-sounds/
//     doorbell/  a.wav b.flac ...
//     kettle/    ...
//
// Every fifth file of each class (in name order) is held out for validation. Any format and
// sample rate libsndfile reads works: clips are resampled to 44.1 kHz and padded or cut to 5 s.
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
let root = URL(fileURLWithPath: folder)
let extensions: Set<String> = ["wav", "flac", "ogg", "aiff", "aif", "mp3"]

do {
    let fm = FileManager.default
    let classes = try fm.contentsOfDirectory(atPath: root.path)
        .filter {
            var isDir: ObjCBool = false;
            return fm.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }
        .sorted()
    var train: [LoaderItem] = [], validation: [LoaderItem] = []
    for (label, name) in classes.enumerated() {
        let files = try fm.contentsOfDirectory(atPath: root.appendingPathComponent(name).path)
            .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        for (i, file) in files.enumerated() {
            let item = LoaderItem(url: root.appendingPathComponent(name).appendingPathComponent(file), label: label, origin: name)
            if i % 5 == 4 { validation.append(item) } else { train.append(item) }
        }
        print("\(name): \(files.count) clips")
    }
    let mel = MelConfig()
    let data = try TrainingData(
        classes: classes, train: train, validation: validation,
        features: TrainingData.featureSource(melConfig: mel, cacheDirectory: nil), melConfig: mel)
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
