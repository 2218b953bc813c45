/// Long sums over raw buffers (a batch-norm channel, a bias gradient: 10^4-10^5 values).
///
/// Each runs sixteen float lanes over blocks of 256 values and adds every block's total in
/// double precision. A lane sums only 16 values before its block is flushed, so the rounding
/// error grows like that of a 256-way pairwise sum, not like a sequential float sum's (which
/// gains one rounding per value), and the loop runs at vector speed.
extension Kernels {
    /// `Σ x[i]`.
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        blockedSums(count: count) { i in
            (load(x, i), SIMD16())
        } tail: { i in
            (x[i], 0)
        }.0
    }

    /// `Σ (x[i] − mean)²`.
    static func sumOfSquares(_ x: UnsafePointer<Float>, centredOn mean: Float, count: Int) -> Double {
        let m = SIMD16<Float>(repeating: mean)
        return blockedSums(count: count) { i in
            let d = load(x, i) - m
            return (d * d, SIMD16())
        } tail: { i in
            let d = x[i] - mean
            return (d * d, 0)
        }.0
    }

    /// `(Σ g[i], Σ g[i]·(x[i] − mean))`, with `g[i]` taken as 0 where `gate` closes (where a
    /// fused ReLU's output `max(a·x[i] + shift, 0)` is 0) when a gate is given: the two sums of
    /// batch norm's backward pass.
    static func sumAndCentredDot(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, centredOn mean: Float,
        gate: ReLUGate?, count: Int
    ) -> (Double, Double) {
        let m = SIMD16<Float>(repeating: mean)
        if let gate {
            return blockedSums(count: count) { i in
                let xv = load(x, i)
                let d = gate.apply(load(g, i), input: xv)
                return (d, d * (xv - m))
            } tail: { i in
                let d = gate.apply(g[i], input: x[i])
                return (d, d * (x[i] - mean))
            }
        }
        return blockedSums(count: count) { i in
            let d = load(g, i)
            return (d, d * (load(x, i) - m))
        } tail: { i in
            (g[i], g[i] * (x[i] - mean))
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Two sums at once: `vector(i)` gives the terms of values `i..<i+16`, `scalar(i)` those of
    /// value `i` for the last `count % 16`.
    @inline(__always)
    private static func blockedSums(
        count: Int, _ vector: (Int) -> (SIMD16<Float>, SIMD16<Float>),
        tail scalar: (Int) -> (Float, Float)
    ) -> (Double, Double) {
        var total0 = 0.0, total1 = 0.0
        let vectorEnd = count & ~15
        var i = 0
        while i < vectorEnd {
            let blockEnd = Swift.min(i + 256, vectorEnd)
            var lanes0 = SIMD16<Float>(), lanes1 = SIMD16<Float>()
            while i < blockEnd {
                let (t0, t1) = vector(i)
                lanes0 += t0
                lanes1 += t1
                i += 16
            }
            total0 += Double(lanes0.sum())
            total1 += Double(lanes1.sum())
        }
        while i < count {
            let (t0, t1) = scalar(i)
            total0 += Double(t0)
            total1 += Double(t1)
            i += 1
        }
        return (total0, total1)
    }
}

/// The mask of a ReLU fused after an affine map, rebuilt from the map's input instead of read
/// from the ReLU's output: the output `max(a·x + shift, 0)` is 0, and its gradient closed, exactly
/// where `a·x + shift ≤ 0`. Batch norm's forward pass computes its output with the same
/// expression (``affine(_:)``), so the decision is the same bit for bit, and the backward pass
/// reads one stream less.
struct ReLUGate {
    var a: Float
    var shift: Float

    /// `a·x + shift`, as the forward pass computes it.
    @inline(__always)
    func affine(_ x: Float) -> Float { a * x + shift }

    @inline(__always)
    func affine(_ x: SIMD8<Float>) -> SIMD8<Float> { a * x + shift }

    @inline(__always)
    func affine(_ x: SIMD16<Float>) -> SIMD16<Float> { a * x + shift }

    /// `g` where the gate is open at input `x`, else 0.
    @inline(__always)
    func apply(_ g: Float, input x: Float) -> Float { affine(x) <= 0 ? 0 : g }

    @inline(__always)
    func apply(_ g: SIMD8<Float>, input x: SIMD8<Float>) -> SIMD8<Float> {
        g.replacing(with: 0, where: affine(x) .<= 0)
    }

    @inline(__always)
    func apply(_ g: SIMD16<Float>, input x: SIMD16<Float>) -> SIMD16<Float> {
        g.replacing(with: 0, where: affine(x) .<= 0)
    }
}
