// Training (with ResNetAudio, whose AudioCNNConfig names the model to train): one epoch of the
// small model on a tiny synthetic data set in the ESC-50 layout, then its validation accuracy.
//   TrainingConsumer WORKDIR
import Foundation
import ResNetAudio
import Training

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: TrainingConsumer WORKDIR\n".utf8))
    exit(2)
}
do {
    let work = URL(fileURLWithPath: CommandLine.arguments[1])
    var synthetic = SyntheticDataset()
    synthetic.duration = 1
    synthetic.clipsPerClassPerFold = 1
    let directory = work.appendingPathComponent("data")
    _ = try synthetic.write(to: directory)
    let data = try TrainingData.esc50(directory: directory, validationFold: 5, clipDuration: 1)
    var configuration = TrainingConfiguration()
    configuration.epochs = 1
    configuration.batchSize = 8
    let trainer = try Trainer(
        configuration: configuration, model: .small(classes: data.classes.count), data: data,
        outputDirectory: work.appendingPathComponent("checkpoints"))
    let summary = try trainer.run()
    let exists = FileManager.default.fileExists(atPath: summary.lastCheckpoint.path)
    print(
        "1 epoch on \(data.classes.count) synthetic classes: validation accuracy \(summary.bestAccuracy * 100)%, "
            + "checkpoint \(summary.lastCheckpoint.lastPathComponent) written: \(exists)")
    exit(exists ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("TrainingConsumer: \(error)\n".utf8))
    exit(1)
}
