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
}
