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

    /// `(Σ g[i], Σ g[i]·(x[i] − mean))`, with `g[i]` taken as 0 where `mask[i] ≤ 0` when a mask
    /// (a ReLU's output) is given: the two sums of batch norm's backward pass.
    static func sumAndCentredDot(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, centredOn mean: Float,
        mask: UnsafePointer<Float>?, count: Int
    ) -> (Double, Double) {
        let m = SIMD16<Float>(repeating: mean)
        if let mask {
            return blockedSums(count: count) { i in
                let d = load(g, i).replacing(with: 0, where: load(mask, i) .<= 0)
                return (d, d * (load(x, i) - m))
            } tail: { i in
                let d = mask[i] <= 0 ? 0 : g[i]
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
