/// TensorBoard's histogram of a set of values, laid out as `torch.utils.tensorboard` does by
/// default (`bins="tensorflow"`, `make_histogram` in `torch/utils/tensorboard/summary.py`).
struct Histogram: Equatable {
    var min: Double
    var max: Double
    var num: Double
    var sum: Double
    var sumSquares: Double
    /// Right edge of each bucket.
    var bucketLimits: [Double]
    /// Count of each bucket.
    var bucketCounts: [Double]

    /// TensorFlow's default bucket edges: `±1e-12 * 1.1^k` for every k below 1e20, and 0
    /// (1,549 edges). Built by repeated multiplication exactly as PyTorch does, so that the edges
    /// are bit-identical to its own.
    static let defaultEdges: [Double] = {
        var positive = [Double]()
        var v = 1e-12
        while v < 1e20 {
            positive.append(v)
            v *= 1.1
        }
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// The histogram of `values`. Values outside the outermost edges are counted in `num`, `sum`
    /// and friends but in no bucket, as numpy does.
    ///
    /// - Returns: `nil` when no value falls inside the edges (the caller reports that).
    /// - Precondition: `values` is not empty and all are finite.
    init?(_ values: UnsafeBufferPointer<Double>) {
        let edges = Self.defaultEdges
        var counts = [Double](repeating: 0, count: edges.count - 1)
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, sumSquares = 0.0
        edges.withUnsafeBufferPointer { e in
            let first = e[0], last = e[e.count - 1]
            for v in values {
                lo = Swift.min(lo, v)
                hi = Swift.max(hi, v)
                sum += v
                sumSquares += v * v
                guard v >= first, v <= last else { continue }
                // numpy: bin i holds [e[i], e[i+1]); the last bin is closed on the right.
                var a = 0, b = e.count - 1  // invariant: e[a] <= v, and v < e[b] or b is last
                while b - a > 1 {
                    let m = (a + b) / 2
                    if e[m] <= v { a = m } else { b = m }
                }
                counts[Swift.min(a, counts.count - 1)] += 1
            }
        }
        guard let firstNonEmpty = counts.firstIndex(where: { $0 > 0 }),
            let lastNonEmpty = counts.lastIndex(where: { $0 > 0 })
        else { return nil }
        // TensorBoard stores right edges only; keep one empty bucket on the left so the leftmost
        // edge of the support survives (torch: counts[start-1:end], limits[start:end+1]).
        let start = firstNonEmpty, end = lastNonEmpty + 1
        if start > 0 {
            bucketCounts = Array(counts[(start - 1)..<end])
        } else {
            bucketCounts = [0] + counts[0..<end]
        }
        bucketLimits = Array(edges[start...end])
        self.min = lo
        self.max = hi
        self.num = Double(values.count)
        self.sum = sum
        self.sumSquares = sumSquares
    }
}
