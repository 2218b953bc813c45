import ArgumentParser
import DataParallel
import ESC50
import Foundation
import Training

/// `audiocnn cross-validate`: the ESC-50 protocol, each fold held out once.
struct CrossValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cross-validate",
        abstract: "K-fold cross-validation (ESC-50's protocol): train once per fold with that fold held out; mean and std of accuracy.",
        discussion:
            "Reports each fold's final-epoch accuracy (no choice made on the held-out fold) and its best, with the mean and the sample standard deviation over folds."
    )

    @OptionGroup var source: DatasetOptions
    @Flag(
        name: .customLong("skip-invalid"), help: "Train on the clips without errors, listing the others, instead of refusing the data set.")
    var skipInvalid = false
    @OptionGroup var recipe: RecipeOptions
    @Flag(help: "Use only the ESC-10 subset (10 classes).")
    var esc10 = false
    @Option(help: "TensorBoard log folder; each fold logs to fold-K inside it.")
    var logdir: String = "runs/crossval"
    @Option(help: "Checkpoint folder; each fold writes to fold-K inside it.")
    var out: String = "checkpoints/crossval"
    @Option(help: "Cache log-Mel spectrograms in this folder (default: in memory).")
    var cache: String?
    @Option(help: "Comma-separated folds to hold out (default: every fold of the data set).")
    var folds: String?
    @Flag(help: "Continue interrupted folds (and skip finished ones) from their last checkpoints.")
    var resume = false
    @OptionGroup var parallel: DataParallelOptions
    @OptionGroup var precision: PrecisionOption

    func run() async throws {
        let group = try parallel.group()
        try precision.apply { try DataParallelOptions.run(in: group) { try crossValidate(group: group) } }
    }

    /// Every fold in turn; under mpirun the ranks train each fold together.
    private func crossValidate(group: MPIProcessGroup?) throws {
        var dataset = try source.read()
        if esc10 { dataset = try dataset.esc10Subset() }
        let report = DatasetOptions.verifyForTraining(dataset, validationFold: nil, skipInvalid: skipInvalid)
        let cacheURL = cache.map { URL(fileURLWithPath: $0) }
        let chosen = try foldList(dataset)
        var finals: [Double] = [], bests: [Double] = []
        for fold in chosen {
            let data = try TrainingData.split(
                of: dataset, validationFold: fold, report: report, skipInvalid: skipInvalid, cacheDirectory: cacheURL)
            let out = URL(fileURLWithPath: self.out).appendingPathComponent("fold-\(fold)")
            var resumeFold = resume && FileManager.default.fileExists(atPath: out.appendingPathComponent("last.safetensors").path)
            if let group {  // rank 0's output folder decides
                resumeFold = try group.sum([group.rank == 0 && resumeFold ? 1 : 0])[0] > 0
            }
            let summary = try TrainCommand.train(
                data: data, recipe: recipe, out: out,
                logdir: URL(fileURLWithPath: logdir).appendingPathComponent("fold-\(fold)"),
                resume: resumeFold, prefix: "[fold \(fold)] ", dataParallel: parallel.training(group))
            let final = summary.history.last?.validationAccuracy ?? 0
            finals.append(final)
            bests.append(summary.bestAccuracy)
            guard (group?.rank ?? 0) == 0 else { continue }
            print(String(format: "fold %d: final accuracy %.2f%%, best %.2f%%", fold, final * 100, summary.bestAccuracy * 100))
        }
        guard (group?.rank ?? 0) == 0 else { return }
        let final = CrossValidationSummary(accuracies: finals), best = CrossValidationSummary(accuracies: bests)
        let (mean, std, bestMean, bestStd) = (final.mean, final.standardDeviation, best.mean, best.standardDeviation)
        print(
            String(
                format:
                    "cross-validation over %d folds: final accuracy %.2f%% ± %.2f%% (mean ± sample std); best-epoch accuracy %.2f%% ± %.2f%%",
                finals.count, mean * 100, std * 100, bestMean * 100, bestStd * 100))
    }

    private func foldList(_ dataset: SoundDataset) throws -> [Int] {
        if let folds {
            let parsed = folds.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--folds \"\(folds)\" is not a comma-separated list of fold numbers")
            }
            return parsed.map { $0! }
        }
        return dataset.folds
    }
}
