/// MixUp (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018) as the
/// reference recipe uses it: on a share of the training batches, each example is blended with
/// another example of the same batch, `x = λ·x_i + (1-λ)·x_partner(i)`, with one
/// `λ ~ Beta(α, α)` per batch and `partner` a random permutation of the batch.
///
/// The loss must be mixed the same way, `λ·L(ŷ, y_i) + (1-λ)·L(ŷ, y_partner(i))`;
/// ``Batch/targets(classCount:labelSmoothing:)`` gives the equivalent soft targets.
public struct MixUp: Sendable, Hashable {
    /// The share of batches that are mixed, in [0, 1] (the reference recipe: 0.3).
    public let probability: Double
    /// The distribution of λ (the reference recipe: Beta(0.2, 0.2)).
    public let distribution: BetaDistribution

    /// MixUp on `probability` of the batches with `λ ~ Beta(alpha, alpha)`.
    /// - Throws: ``DistributionError/invalidParameter(_:value:)`` when `probability` is outside
    ///   [0, 1] or `alpha` is not > 0.
    public init(probability: Double = 0.3, alpha: Double = 0.2) throws(DistributionError) {
        guard probability >= 0, probability <= 1 else { throw .invalidParameter("probability", value: probability) }
        self.probability = probability
        self.distribution = try BetaDistribution(alpha: alpha, beta: alpha)
    }

    /// Decides whether a batch of `count` examples is mixed and, if so, how.
    ///
    /// - Returns: `nil` for a batch left as it is, else λ and the partner of each example.
    public func plan(count: Int, using generator: inout SeededGenerator) -> MixPlan? {
        guard count > 0, GammaDistribution.unit(&generator) < probability else { return nil }
        let lambda = Float(distribution.sample(using: &generator))
        var partner = Array(0..<count)
        partner.seededShuffle(using: &generator)
        return MixPlan(lambda: lambda, partner: partner)
    }
}

/// How one batch is mixed: example `i` becomes `λ·x_i + (1-λ)·x_partner[i]`.
public struct MixPlan: Sendable, Hashable {
    /// The weight of each example's own content and label, in [0, 1].
    public var lambda: Float
    /// `partner[i]` is the batch position mixed into example `i` (a permutation).
    public var partner: [Int]

    /// Creates a plan; `partner` must be a permutation of `0..<partner.count`.
    public init(lambda: Float, partner: [Int]) {
        self.lambda = lambda
        self.partner = partner
    }

    /// Mixes `features`, laid out as `partner.count` examples of `stride` floats each, in place.
    func apply(to features: inout [Float], stride: Int) {
        precondition(features.count == partner.count * stride)
        let original = features
        let a = lambda, b = 1 - lambda
        original.withUnsafeBufferPointer { src in
            features.withUnsafeMutableBufferPointer { dst in
                for i in 0..<partner.count {
                    let own = src.baseAddress! + i * stride
                    let other = src.baseAddress! + partner[i] * stride
                    let out = dst.baseAddress! + i * stride
                    for j in 0..<stride { out[j] = a * own[j] + b * other[j] }
                }
            }
        }
    }
}
