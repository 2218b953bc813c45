import _SeededRandom
/// A seeded structure-unaware mutator, libFuzzer-style: bit flips, "interesting" bytes and
/// integers, truncations, deletions, duplications and splices with a second seed.
///
/// The fuzz tests run it for a fixed number of steps with a fixed seed, so CI replays exactly
/// the same inputs every time and a crash found once is found again. Each input is derived from
/// one of the seeds by 1-4 stacked mutations, as libFuzzer does.
public struct Mutator {
    private var generator: SplitMix64

    /// A mutator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// The next 64 random bits (SplitMix64).
    public mutating func next() -> UInt64 { generator.next() }

    /// A uniform integer in `0..<bound` (`bound` > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Little-endian integers that break length and offset arithmetic.
    static let interesting32: [UInt32] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF,
    ]
    static let interesting8: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x2C, 0x0A, 0x0D, 0x5B, 0x7B]

    /// One mutant of a randomly chosen seed (seeds must not all be empty).
    public mutating func mutant(of seeds: [[UInt8]]) -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0..<(1 + below(4)) { mutate(&bytes, seeds: seeds) }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8], seeds: [[UInt8]]) {
        if bytes.isEmpty { bytes = [UInt8(truncatingIfNeeded: next())]; return }
        // Header fields live near the start: aim half of the point mutations at the first 64 bytes.
        let at = below(2) == 0 ? below(min(bytes.count, 64)) : below(bytes.count)
        switch below(9) {
        case 0: bytes[at] ^= 1 << UInt8(below(8))
        case 1: bytes[at] = Self.interesting8[below(Self.interesting8.count)]
        case 2: bytes[at] = UInt8(truncatingIfNeeded: next())
        case 3:
            let value = Self.interesting32[below(Self.interesting32.count)]
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
        case 4: bytes.removeSubrange(below(bytes.count)...)  // truncate
        case 5:
            let length = min(bytes.count - at, 1 + below(32))
            bytes.removeSubrange(at..<(at + length))
        case 6:
            let length = min(bytes.count - at, 1 + below(32))
            bytes.insert(contentsOf: Array(bytes[at..<(at + length)]), at: below(bytes.count + 1))
        case 7:
            // Splice: our prefix, another seed's suffix.
            let other = seeds[below(seeds.count)]
            guard !other.isEmpty else { return }
            bytes = Array(bytes[..<at]) + Array(other[below(other.count)...])
        default:
            let value = UInt32(truncatingIfNeeded: next())
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
        }
    }
}
