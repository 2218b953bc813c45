import AudioDSP
import Foundation

/// A training/validation partition of a data set's clips.
public struct DatasetSplit: Sendable, Equatable {
    /// The clips to train on, in CSV order.
    public var train: [ClipRecord]
    /// The clips to validate on, in CSV order.
    public var validation: [ClipRecord]

    /// Creates a split from two lists of clips.
    public init(train: [ClipRecord], validation: [ClipRecord]) {
        self.train = train
        self.validation = validation
    }
}

extension SoundDataset {
    /// The standard cross-validation split: validate on `validationFolds`, train on the others
    /// (or only on `trainFolds` when given).
    ///
    /// - Parameters:
    ///   - validationFolds: the held-out folds, e.g. `[5]`.
    ///   - trainFolds: the folds to train on; `nil` means every fold not held out.
    /// - Throws: ``ESC50Error/invalidSelection(_:)`` when a fold is not in the data set or a fold
    ///   is on both sides; ``ESC50Error/noClips(_:)`` when either side would be empty.
    public func split(validationFolds: [Int], trainFolds: [Int]? = nil) throws(ESC50Error) -> DatasetSplit {
        let held = Set(validationFolds)
        let training = trainFolds.map(Set.init) ?? Set(folds).subtracting(held)
        let both = held.intersection(training).sorted()
        guard both.isEmpty else {
            throw .invalidSelection("fold \(both.map(String.init).joined(separator: ", ")) is both trained and validated on")
        }
        let validation = try clips(inFolds: held)
        let train = try clips(inFolds: training)
        guard !train.isEmpty else { throw .noClips("no training clips outside folds \(held.sorted())") }
        guard !validation.isEmpty else { throw .noClips("no validation folds given") }
        return DatasetSplit(train: train, validation: validation)
    }

    /// A deterministic split for data without usable folds: a fraction of each class goes to
    /// validation, and every clip cut from one recording (`src_file`) stays on one side, since
    /// takes of one recording are near-duplicates that would leak between the two sides.
    ///
    /// Recordings are drawn per class (so each class keeps about `validationFraction` of its
    /// clips in validation) in an order fixed by `seed`; the same data and seed always give the
    /// same split. A clip without a `src_file` is its own recording.
    ///
    /// - Parameters:
    ///   - clips: the clips to split (e.g. ``clips`` or one fold's clips).
    ///   - validationFraction: the share of each class's clips to hold out, in (0, 1).
    ///   - seed: fixes which recordings are held out.
    /// - Throws: ``ESC50Error/invalidSelection(_:)`` when the fraction is not in (0, 1);
    ///   ``ESC50Error/noClips(_:)`` when either side would be empty.
    public func sourceSplit(_ clips: [ClipRecord], validationFraction: Double, seed: UInt64)
        throws(ESC50Error) -> DatasetSplit
    {
        guard validationFraction > 0, validationFraction < 1 else {
            throw .invalidSelection("validationFraction is \(validationFraction), expected a value in (0, 1)")
        }
        // Group clips by recording; a recording is assigned to the class of its first clip.
        var groups: [String: [Int]] = [:]
        var groupOrder: [String] = []
        for (index, clip) in clips.enumerated() {
            let key = clip.sourceFile.isEmpty ? "file:" + clip.filename : "src:" + clip.sourceFile
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(index)
        }
        var groupsOfClass: [String: [String]] = [:]
        for key in groupOrder { groupsOfClass[clips[groups[key]![0]].category, default: []].append(key) }

        var held = Set<Int>()
        for category in groupsOfClass.keys.sorted() {
            // Order by a seeded hash of the recording name: stable under reordering of the CSV.
            let keys = groupsOfClass[category]!.sorted {
                (SplitMix64.hash($0, seed: seed), $0) < (SplitMix64.hash($1, seed: seed), $1)
            }
            let total = keys.reduce(0) { $0 + groups[$1]!.count }
            let goal = Int((Double(total) * validationFraction).rounded())
            var taken = 0
            for key in keys where taken < goal {
                let members = groups[key]!
                // Never hold out a class's last recording: training needs every class.
                if taken + members.count >= total { break }
                held.formUnion(members)
                taken += members.count
            }
        }
        let validation = clips.indices.filter { held.contains($0) }.map { clips[$0] }
        let train = clips.indices.filter { !held.contains($0) }.map { clips[$0] }
        guard !validation.isEmpty else {
            throw .noClips("validationFraction \(validationFraction) of \(clips.count) clips holds out no recording")
        }
        guard !train.isEmpty else { throw .noClips("no clips left to train on") }
        return DatasetSplit(train: train, validation: validation)
    }
}
