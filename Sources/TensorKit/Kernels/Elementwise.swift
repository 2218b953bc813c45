/// Elementwise kernels on raw buffers. They vectorise (the loops are simple enough for the
/// optimiser to use SIMD) and split large buffers across the cores.
enum Kernels {
    static func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { y[i] += x[i] }
        }
    }

    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a[i] + b[i] }
        }
    }

    static func sub(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a[i] - b[i] }
        }
    }

    static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a[i] * b[i] }
        }
    }

    static func div(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a[i] / b[i] }
        }
    }

    /// `out = a * x + b`.
    static func affine(_ x: UnsafePointer<Float>, _ a: Float, _ b: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a * x[i] + b }
        }
    }

    static func scale(_ x: UnsafePointer<Float>, _ a: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { out[i] = a * x[i] }
        }
    }

    /// Sum in double precision per block, so long reductions keep float32 accuracy.
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 4096, count)
            var s: Float = 0
            for j in i..<end { s += x[j] }
            total += Double(s)
            i = end
        }
        return total
    }
}
