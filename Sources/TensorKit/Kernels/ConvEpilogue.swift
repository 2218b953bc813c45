/// What a convolution does to its output right after computing it, while the output is still
/// in cache: add a residual map, keep the sum, apply ReLU. Inference-only (records no history).
///
/// Why: at the end of a residual block `relu(conv(x) + b + shortcut)` as separate operations
/// costs two more passes over the map and one more map of memory.
struct ConvEpilogue {
    /// A map of the output's shape added to it, or `nil`.
    var residual: UnsafePointer<Float>? = nil
    /// Receives the output before ReLU (after bias and residual), or `nil`.
    var preActivation: UnsafeMutablePointer<Float>? = nil
    /// Apply `max(·, 0)`.
    var relu = false

    /// Whether there is anything to do beyond the bias.
    var isEmpty: Bool { residual == nil && preActivation == nil && !relu }

    /// Finishes `count` outputs starting at element `offset` of the output `y` (residual and
    /// pre-activation use the same offsets). The bias is already in `y`.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, offset: Int, count: Int) {
        let out = y + offset
        let r = residual.map { $0 + offset }, pre = preActivation.map { $0 + offset }
        var i = 0
        let zero = SIMD8<Float>(repeating: 0)
        while i + 8 <= count {
            var v = UnsafeRawPointer(out + i).loadUnaligned(as: SIMD8<Float>.self)
            if let r { v += UnsafeRawPointer(r + i).loadUnaligned(as: SIMD8<Float>.self) }
            if let pre { UnsafeMutableRawPointer(pre + i).storeBytes(of: v, as: SIMD8<Float>.self) }
            if relu { v = v.replacing(with: zero, where: v .< zero) }
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            var v = out[i]
            if let r { v += r[i] }
            pre?[i] = v
            if relu { v = Swift.max(v, 0) }
            out[i] = v
            i += 1
        }
    }
}
