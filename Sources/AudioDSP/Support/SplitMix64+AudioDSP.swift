import _SeededRandom

/// SplitMix64 (Steele, Lea & Flood 2014): the small seedable generator that makes SpecAugment
/// and the other random draws of the suite reproducible; the same seed gives the same sequence
/// on every platform. `init(seed:)`, `next()`, `nextUnitDouble()`; `state` saves and restores it.
public typealias SplitMix64 = _SeededRandom.SplitMix64
