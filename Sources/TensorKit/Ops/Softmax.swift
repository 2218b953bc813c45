import Foundation

extension Tensor {
    /// Softmax along the last dimension (each row sums to 1). Differentiable.
    /// - Precondition: rank >= 1 and the last dimension is not empty.
    public func softmax() -> Tensor {
        let (rows, cols) = softmaxRows("softmax")
        let out = Tensor(uninitializedShape: shape)
        SoftmaxKernels.forward(pointer, out.pointer, rows: rows, cols: cols, log: false)
        let so = out.detached
        return Tensor.record("softmax", out, inputs: [self]) { g in
            // dx = y · (g − Σ g·y)
            let dx = Tensor(uninitializedShape: g.shape)
            let gp = g.pointer, yp = so.pointer, d = dx.pointer
            for r in 0..<rows {
                var dot: Float = 0
                for j in 0..<cols { dot += gp[r * cols + j] * yp[r * cols + j] }
                for j in 0..<cols { d[r * cols + j] = yp[r * cols + j] * (gp[r * cols + j] - dot) }
            }
            return [dx]
        }
    }

    /// `log(softmax(x))` along the last dimension, computed stably. Differentiable.
    /// - Precondition: rank >= 1 and the last dimension is not empty.
    public func logSoftmax() -> Tensor {
        let (rows, cols) = softmaxRows("logSoftmax")
        let out = Tensor(uninitializedShape: shape)
        SoftmaxKernels.forward(pointer, out.pointer, rows: rows, cols: cols, log: true)
        let so = out.detached
        return Tensor.record("logSoftmax", out, inputs: [self]) { g in
            // dx = g − softmax · Σ g
            let dx = Tensor(uninitializedShape: g.shape)
            let gp = g.pointer, yp = so.pointer, d = dx.pointer
            for r in 0..<rows {
                var s: Float = 0
                for j in 0..<cols { s += gp[r * cols + j] }
                for j in 0..<cols { d[r * cols + j] = gp[r * cols + j] - Foundation.exp(yp[r * cols + j]) * s }
            }
            return [dx]
        }
    }

    private func softmaxRows(_ op: String) -> (Int, Int) {
        precondition(rank >= 1 && shape[rank - 1] > 0, "TensorKit.\(op): needs a non-empty last dimension, got shape \(shape)")
        let cols = shape[rank - 1]
        return (count / cols, cols)
    }
}

enum SoftmaxKernels {
    /// Row-wise softmax or log-softmax of `rows × cols` values.
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, log: Bool) {
        for r in 0..<rows {
            let src = x + r * cols, dst = y + r * cols
            var mx = -Float.infinity
            for j in 0..<cols { mx = Swift.max(mx, src[j]) }
            var s: Float = 0
            for j in 0..<cols { s += Foundation.exp(src[j] - mx) }
            if log {
                let lse = mx + Foundation.log(s)
                for j in 0..<cols { dst[j] = src[j] - lse }
            } else {
                let inv = 1 / s
                for j in 0..<cols { dst[j] = Foundation.exp(src[j] - mx) * inv }
            }
        }
    }
}
