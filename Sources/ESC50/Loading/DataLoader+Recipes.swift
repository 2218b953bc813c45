import AudioDSP

extension DataLoader.Configuration {
    /// The reference recipe's training loader: shuffled, SpecAugment (one frequency mask up to
    /// 30 bands, one time mask up to 80 frames, masked to 0 dB as torchaudio does) on every
    /// example, and MixUp with λ ~ Beta(0.2, 0.2) on 30% of the batches.
    ///
    /// - Parameters:
    ///   - seed: fixes the order, masks and mixing of every epoch.
    ///   - batchSize: examples per batch (the reference recipe: 32).
    ///   - workers: background threads computing batches.
    public static func referenceTraining(seed: UInt64, batchSize: Int = 32, workers: Int = 1) -> Self {
        // Beta(0.2, 0.2) and p = 0.3 are valid parameters; the initialiser cannot throw here.
        let mixUp = try? MixUp(probability: 0.3, alpha: 0.2)
        return Self(
            batchSize: batchSize, shuffle: true, dropLast: false, seed: seed, workers: workers,
            augmentations: [SpecAugment(frequencyMaskParameter: 30, timeMaskParameter: 80)], mixUp: mixUp)
    }

    /// An evaluation loader: every item once, in order, without augmentation.
    public static func evaluation(batchSize: Int = 32, workers: Int = 1) -> Self {
        Self(batchSize: batchSize, shuffle: false, workers: workers)
    }
}
