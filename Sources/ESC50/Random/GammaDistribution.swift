import Foundation

/// The Gamma distribution with shape `k` and scale 1, sampled by Marsaglia and Tsang's method
/// ("A simple method for generating gamma variables", ACM TOMS 26(3), 2000).
///
/// For `shape < 1` it uses the paper's boost: if `X ~ Gamma(k + 1)` and `U ~ U(0, 1)` then
/// `X * U^(1/k) ~ Gamma(k)`.
public struct GammaDistribution: Sendable, Hashable {
    /// The shape parameter `k` (> 0). Mean and variance are both `k`.
    public let shape: Double

    /// A Gamma(`shape`, 1) distribution.
    /// - Throws: ``DistributionError/invalidParameter(_:value:)`` when `shape` is not finite and > 0.
    public init(shape: Double) throws(DistributionError) {
        guard shape.isFinite, shape > 0 else { throw .invalidParameter("shape", value: shape) }
        self.shape = shape
    }

    /// One sample, drawn from `generator`.
    public func sample(using generator: inout some RandomNumberGenerator) -> Double {
        if shape < 1 {
            let boosted = Self.marsagliaTsang(shape: shape + 1, using: &generator)
            // 1 - U is in (0, 1]: never 0, so the power never collapses a sample to exactly 0
            // because of the generator's granularity.
            let u = 1 - Self.unit(&generator)
            return boosted * Foundation.pow(u, 1 / shape)
        }
        return Self.marsagliaTsang(shape: shape, using: &generator)
    }

    private static func marsagliaTsang(shape: Double, using generator: inout some RandomNumberGenerator) -> Double {
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = standardNormal(&generator)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = unit(&generator)
            let x2 = x * x
            // The squeeze accepts ~98% of draws without a logarithm.
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if u > 0, Foundation.log(u) < 0.5 * x2 + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always) static func unit(_ generator: inout some RandomNumberGenerator) -> Double {
        Double(generator.next() >> 11) * 0x1.0p-53
    }

    /// A standard normal variate (Marsaglia's polar method).
    static func standardNormal(_ generator: inout some RandomNumberGenerator) -> Double {
        while true {
            let u = 2 * unit(&generator) - 1
            let v = 2 * unit(&generator) - 1
            let s = u * u + v * v
            if s > 0, s < 1 { return u * (-2 * Foundation.log(s) / s).squareRoot() }
        }
    }
}

/// The Beta(`alpha`, `beta`) distribution, sampled as `X / (X + Y)` with
/// `X ~ Gamma(alpha)` and `Y ~ Gamma(beta)` independent.
///
/// MixUp draws its mixing weight from `Beta(0.2, 0.2)`, which piles its mass near 0 and 1.
public struct BetaDistribution: Sendable, Hashable {
    /// The first shape parameter (> 0).
    public var alpha: Double { x.shape }
    /// The second shape parameter (> 0).
    public var beta: Double { y.shape }
    private let x: GammaDistribution
    private let y: GammaDistribution

    /// A Beta(`alpha`, `beta`) distribution.
    /// - Throws: ``DistributionError/invalidParameter(_:value:)`` when a parameter is not finite and > 0.
    public init(alpha: Double, beta: Double) throws(DistributionError) {
        guard alpha.isFinite, alpha > 0 else { throw .invalidParameter("alpha", value: alpha) }
        guard beta.isFinite, beta > 0 else { throw .invalidParameter("beta", value: beta) }
        x = try GammaDistribution(shape: alpha)
        y = try GammaDistribution(shape: beta)
    }

    /// The mean, `alpha / (alpha + beta)`.
    public var mean: Double { alpha / (alpha + beta) }

    /// The variance, `alpha * beta / ((alpha + beta)^2 * (alpha + beta + 1))`.
    public var variance: Double {
        let s = alpha + beta
        return alpha * beta / (s * s * (s + 1))
    }

    /// One sample in [0, 1], drawn from `generator`.
    public func sample(using generator: inout some RandomNumberGenerator) -> Double {
        while true {
            let a = x.sample(using: &generator)
            let b = y.sample(using: &generator)
            let sum = a + b
            // Both Gamma draws underflowing is astronomically rare, but 0/0 must never escape.
            if sum > 0 { return a / sum }
        }
    }
}

/// An invalid parameter of a probability distribution.
public enum DistributionError: Error, Equatable, CustomStringConvertible {
    /// The named parameter had `value`, but must be finite and greater than 0.
    case invalidParameter(String, value: Double)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidParameter(let name, let value):
            return "\(name) is \(value), expected a finite value > 0"
        }
    }
}
