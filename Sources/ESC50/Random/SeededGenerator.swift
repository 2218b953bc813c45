import AudioDSP

/// A fast, seedable random number generator (xoshiro256**, Blackman & Vigna 2018), seeded
/// through SplitMix64 as its authors recommend.
///
/// The sequence depends only on the seed, on every platform and Swift version, so shuffles
/// and augmentations are reproducible from a seed. Not for cryptography.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next(); s1 = mix.next(); s2 = mix.next(); s3 = mix.next()
    }

    /// A generator for one of many independent streams derived from `seed`, e.g. one per
    /// (epoch, batch): `SeededGenerator(seed: seed, stream: [epoch, batch])`.
    public init(seed: UInt64, stream: [UInt64]) {
        var state = seed
        for value in stream {
            state = SplitMix64.mix(state ^ (value &* 0x9E37_79B9_7F4A_7C15))
        }
        self.init(seed: state)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

extension SeededGenerator {
    /// Sets the raw xoshiro state, so tests can compare with the reference implementation.
    mutating func setStateForTesting(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        self = SeededGenerator(raw: (a, b, c, d))
    }

    private init(raw: (UInt64, UInt64, UInt64, UInt64)) {
        self.init(seed: 0)
        (s0, s1, s2, s3) = raw
    }
}

extension SeededGenerator {
    /// A uniform integer in `0..<bound` (`bound > 0`), by Lemire's multiply-shift mapping.
    ///
    /// Spelled out here rather than taken from `Int.random(in:using:)`, whose algorithm the
    /// standard library may change, so shuffles stay identical across Swift versions.
    mutating func nextIndex(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}

extension MutableCollection where Self: RandomAccessCollection, Index == Int {
    /// Fisher-Yates shuffle driven only by `generator`, stable across Swift versions.
    mutating func seededShuffle(using generator: inout SeededGenerator) {
        guard count > 1 else { return }
        for offset in stride(from: count - 1, to: 0, by: -1) {
            let other = generator.nextIndex(below: offset + 1)
            swapAt(startIndex + offset, startIndex + other)
        }
    }
}
