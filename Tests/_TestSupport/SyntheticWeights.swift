import Foundation
import TensorKit

/// The counter-based weights of `Scripts/fixtures/make_resnet_fixtures.py`, reproduced bit for bit:
/// `u = lowbias32(i * 0x9E3779B9 + fnv1a32(name)) / 2^32 * 2 - 1` in Double, times `scale`, rounded
/// once to Float. PyTorch computed the fixtures' outputs from the same values.
public enum Synthetic {
    /// FNV-1a hash of `name`, the per-tensor seed.
    public static func fnv1a32(_ name: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return h
    }

    /// `count` values uniform in `[-scale, scale)` for the tensor called `name`.
    public static func values(_ name: String, count: Int, scale: Double) -> [Float] {
        let seed = fnv1a32(name)
        return (0..<count).map { i in
            var h = UInt32(truncatingIfNeeded: i) &* 0x9E37_79B9 &+ seed
            h ^= h >> 16
            h = h &* 0x7FEB_352D
            h ^= h >> 15
            h = h &* 0x846C_A68B
            h ^= h >> 16
            return Float((Double(h) / 4_294_967_296.0 * 2.0 - 1.0) * scale)
        }
    }

    /// The fixture script's `synthetic_state` for `model`'s state dict.
    public static func state(for model: some Module) -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for entry in model.stateEntries() {
            let key = entry.name, shape = entry.value.shape, n = entry.value.count
            let v: [Float]
            if key.hasSuffix("num_batches_tracked") {
                v = [7]
            } else if key.hasSuffix("running_var") {
                v = values(key, count: n, scale: 1).map { 1 + 0.5 * ($0 + 1) }  // float32 arithmetic, as numpy
            } else if key.hasSuffix("running_mean") || (key.hasSuffix(".bias") && shape.count == 1 && !key.contains("fc")) {
                v = values(key, count: n, scale: 0.1)
            } else if key.hasSuffix(".weight") && shape.count == 1 {
                v = values(key, count: n, scale: 0.1).map { 1 + $0 }
            } else if shape.count >= 2 {
                let fanIn = shape.dropFirst().reduce(1, *)
                v = values(key, count: n, scale: (6.0 / Double(fanIn)).squareRoot())
            } else {
                v = values(key, count: n, scale: 0.05)
            }
            state[key] = try! Tensor(shape: shape, scalars: v)
        }
        return state
    }
}
