import ArgumentParser
import AudioDSP
import ESC50
import Foundation

extension DatasetLayout: ExpressibleByArgument {}

/// Where the data set is and how it is laid out; shared by `train`, `evaluate`,
/// `cross-validate` and `dataset`.
struct DatasetOptions: ParsableArguments {
    @Option(
        help: """
            The data set folder: ESC-50's layout (meta/esc50.csv, audio/), UrbanSound8K's \
            (metadata/UrbanSound8K.csv, audio/foldN/) or a folder of class folders (<class>/<files>, \
            optionally below foldN/).
            """)
    var data: String
    @Option(help: "The layout of --data: esc50, urbansound8k or folders (default: detected).")
    var layout: DatasetLayout?
    @Option(
        name: .customLong("split-folds"),
        help: "Folds to cut a folder of class folders into when it has no foldN/ level (stratified, numbered 1...K).")
    var splitFolds: Int = 5
    @Option(name: .customLong("split-seed"), help: "Seed of that stratified split.")
    var splitSeed: UInt64 = 0

    /// The data set, with rows that have errors left out and listed in its `problems`.
    func read(folds: Int? = nil) throws -> SoundDataset {
        try SoundDataset(
            directory: URL(fileURLWithPath: data), layout: layout,
            folderSplit: FolderSplit(folds: folds ?? splitFolds, seed: splitSeed), invalidRows: .skip)
    }

    /// Decodes every clip of `dataset`, showing progress on standard error, and returns the
    /// report of every problem.
    static func verify(_ dataset: SoundDataset, validationFold: Int? = nil, melConfig: MelConfig = MelConfig()) -> DatasetReport {
        let status = StatusLine()
        let report = dataset.verify(melConfig: melConfig, validationFold: validationFold) { done, total in
            status.show("verifying: \(done)/\(total) clips decoded", force: done == total)
        }
        status.clear()
        return report
    }

    /// Verifies `dataset` for training: prints its warnings and, with `skipInvalid`, the clips
    /// left out (on standard error). The caller hands the report to `TrainingData.split`, which
    /// refuses a data set with errors unless told to skip them.
    static func verifyForTraining(_ dataset: SoundDataset, validationFold: Int?, skipInvalid: Bool) -> DatasetReport {
        let report = verify(dataset, validationFold: validationFold)
        var lines = report.warnings.map(\.description)
        if report.hasErrors, skipInvalid {
            lines.append("skipping \(report.invalidFiles.count) clip(s) with errors (--skip-invalid):")
            lines += report.errors.map(\.description)
        }
        if !lines.isEmpty { FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8)) }
        return report
    }
}
