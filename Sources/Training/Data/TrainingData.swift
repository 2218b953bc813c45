import AudioDSP
import ESC50
import Foundation

/// The clips of one training run: the class names, the training and validation items and the
/// features computed from them.
public struct TrainingData: Sendable {
    /// Class names in label order (sorted, as the reference project sorts them).
    public let classes: [String]
    /// Training examples.
    public let train: [LoaderItem]
    /// Validation examples (never augmented).
    public let validation: [LoaderItem]
    /// Computes each example's log-Mel spectrogram.
    public let features: any FeatureSource
    /// The front-end configuration, stored in checkpoints so inference computes the same input.
    public let melConfig: MelConfig
    /// The clips left out because they have errors (with ``split(of:validationFold:report:skipInvalid:cacheDirectory:melConfig:clipDuration:)``
    /// and `skipInvalid`); the trainer lists them in `skipped-clips.txt` and the TensorBoard log.
    public private(set) var skipped: [DatasetProblem] = []

    /// Data from explicit items (e.g. your own folders of sounds).
    /// - Throws: ``TrainingError/invalidData(_:)`` when either side is empty or a label is not
    ///   in `0..<classes.count`.
    public init(
        classes: [String], train: [LoaderItem], validation: [LoaderItem],
        features: any FeatureSource, melConfig: MelConfig
    ) throws(TrainingError) {
        guard classes.count >= 2 else { throw .invalidData("\(classes.count) class(es); a classifier needs at least 2") }
        guard !train.isEmpty else { throw .invalidData("no training clips") }
        guard !validation.isEmpty else { throw .invalidData("no validation clips") }
        if let bad = (train + validation).first(where: { !(0..<classes.count).contains($0.label) }) {
            throw .invalidData("\(bad.url.path) has label \(bad.label), expected 0..<\(classes.count)")
        }
        self.classes = classes
        self.train = train
        self.validation = validation
        self.features = features
        self.melConfig = melConfig
    }

    /// The split of a data set in the ESC-50 layout: `validationFold` held out, every other fold
    /// for training.
    ///
    /// - Parameters:
    ///   - directory: the folder holding `meta/esc50.csv` and `audio/`.
    ///   - validationFold: the fold held out.
    ///   - esc10: keep only the ESC-10 subset (10 classes).
    ///   - cacheDirectory: where log-Mel spectrograms are cached on disk; `nil` keeps them in
    ///     memory for the run instead (every clip is decoded once either way).
    ///   - melConfig: the front-end; the reference's by default.
    ///   - clipDuration: clips are padded or cut to this many seconds (ESC-50's 5 by default).
    /// - Throws: ``TrainingError/invalidData(_:)`` naming the CSV problem, the missing fold or
    ///   the unusable cache directory.
    public static func esc50(
        directory: URL, validationFold: Int, esc10: Bool = false,
        cacheDirectory: URL? = nil, melConfig: MelConfig = MelConfig(),
        clipDuration: Double = 5
    ) throws(TrainingError) -> TrainingData {
        do {
            var dataset = try SoundDataset(directory: directory, layout: .esc50)
            if esc10 { dataset = try dataset.esc10Subset() }
            return try split(
                of: dataset, validationFold: validationFold, cacheDirectory: cacheDirectory, melConfig: melConfig,
                clipDuration: clipDuration)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .invalidData("\(directory.path): \(error)")
        }
    }

    /// The split of `dataset` (any `DatasetLayout`): `validationFold` held out, every other
    /// fold for training.
    ///
    /// - Parameters:
    ///   - dataset: the data set, e.g. read with `SoundDataset(directory:invalidRows: .skip)`.
    ///   - validationFold: the fold held out.
    ///   - report: the data set's `DatasetReport` from `verify`, if it was verified. With errors
    ///     in it, the split is refused (``TrainingError/invalidClips(_:)``) unless `skipInvalid`.
    ///   - skipInvalid: train on the clips without errors, listing the others in ``skipped``.
    ///   - cacheDirectory: where log-Mel spectrograms are cached on disk; `nil` keeps them in
    ///     memory for the run instead.
    ///   - melConfig: the front-end; the reference's by default.
    ///   - clipDuration: clips are padded or cut to this many seconds (ESC-50's 5 by default).
    /// - Throws: ``TrainingError/invalidClips(_:)`` for a report with errors (without
    ///   `skipInvalid`); ``TrainingError/invalidData(_:)`` for a missing fold, an empty side or an
    ///   unusable cache directory.
    public static func split(
        of dataset: SoundDataset, validationFold: Int, report: DatasetReport? = nil, skipInvalid: Bool = false,
        cacheDirectory: URL? = nil, melConfig: MelConfig = MelConfig(), clipDuration: Double = 5
    ) throws(TrainingError) -> TrainingData {
        var dataset = dataset
        var skipped: [DatasetProblem] = []
        if let report, report.hasErrors {
            guard skipInvalid else { throw .invalidClips(report) }
            skipped = report.errors
            dataset = dataset.removing(files: report.invalidFiles)
        }
        guard dataset.folds.contains(validationFold) else {
            throw .invalidData(
                "validation fold \(validationFold) is not in \(dataset.metadataURL.path) (folds present: \(dataset.folds.map(String.init).joined(separator: ", ")))"
            )
        }
        do {
            let split = try dataset.split(validationFolds: [validationFold])
            let features = try featureSource(melConfig: melConfig, cacheDirectory: cacheDirectory, clipDuration: clipDuration)
            var data = try TrainingData(
                classes: dataset.classes, train: dataset.loaderItems(split.train),
                validation: dataset.loaderItems(split.validation),
                features: features, melConfig: melConfig)
            data.skipped = skipped
            return data
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .invalidData("\(dataset.root.path): \(error)")
        }
    }

    /// The reference log-Mel features for `melConfig` over clips padded or cut to `clipDuration`
    /// seconds, cached on disk in `cacheDirectory` or in memory when it is `nil`.
    /// - Throws: ``TrainingError/invalidData(_:)`` for an invalid Mel configuration or cache folder.
    public static func featureSource(
        melConfig: MelConfig, cacheDirectory: URL?,
        clipDuration: Double = 5
    ) throws(TrainingError) -> any FeatureSource {
        do {
            let logMel = try LogMelFeatures(config: melConfig, duration: clipDuration)
            if let cacheDirectory {
                return CachedFeatureSource(
                    base: logMel, identity: logMel.cacheIdentity,
                    cache: try FeatureCache(directory: cacheDirectory))
            }
            return MemoryCachedFeatures(base: logMel)
        } catch {
            throw .invalidData("features: \(error)")
        }
    }
}
