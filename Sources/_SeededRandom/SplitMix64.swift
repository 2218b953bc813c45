/// SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference `splitmix64.c`): a tiny, fast,
/// seedable generator that passes BigCrush. The suite's one copy: AudioDSP's augmentation draws
/// from it, and ESC50's and TensorKit's xoshiro generators and the training loop's per-epoch
/// seeds are seeded through it.
///
/// Not cryptographically secure. The same seed gives the same sequence on every platform and
/// Swift version. AudioDSP exposes it as `AudioDSP.SplitMix64`; this module is an
/// implementation detail shared by the libraries (the `_` prefix), not a product.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The generator's whole state; saving it and restoring it resumes the sequence.
    public var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits of ``next()``.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// The first output of a generator seeded with `seed`: a well-spread 64-bit mix of `seed`.
    @inlinable
    public static func mix(_ seed: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: seed)
        return generator.next()
    }

    /// A seeded 64-bit hash of `text` (FNV-1a, then ``mix(_:)``), stable across runs and
    /// platforms (unlike `Hasher`, which is randomised per process).
    public static func hash(_ text: String, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return mix(h ^ seed)
    }
}
