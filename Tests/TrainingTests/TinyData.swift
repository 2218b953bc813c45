import AudioDSP
import Foundation
import Training

/// A tiny synthetic data set in the ESC-50 layout (6 classes, 3 folds x 4 clips, 1 s at 16 kHz)
/// and its features (40 Mel bands x 63 frames), written once per test process.
enum TinyData {
    static let mel = MelConfig(sampleRate: 16_000, nFFT: 512, hopLength: 256, melCount: 40)

    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("audiocnn-training-tests-\(ProcessInfo.processInfo.processIdentifier)")
        var synthetic = SyntheticDataset()
        synthetic.sampleRate = 16_000
        synthetic.duration = 1
        synthetic.folds = 3
        synthetic.clipsPerClassPerFold = 4
        synthetic.seed = 7
        try! synthetic.write(to: url.appendingPathComponent("data"))
        return url
    }()

    static func data() throws -> TrainingData {
        try TrainingData.esc50(
            directory: directory.appendingPathComponent("data"), validationFold: 3,
            melConfig: mel, clipDuration: 1)
    }

    static func configuration(epochs: Int) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = 8
        c.frequencyMask = 8  // the reference's 30 and 80 would blank most of a 40 x 63 input
        c.timeMask = 12
        c.seed = 3
        return c
    }

    static func freshDirectory(_ name: String) -> URL {
        let url = directory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        return url
    }
}
