extension Tensor {
    /// `max(x, 0)` elementwise. Differentiable (gradient 0 at 0, as PyTorch).
    public func relu() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let x = pointer, y = out.pointer
        Parallel.forRange(count) { lo, hi in
            for i in lo..<hi { y[i] = Swift.max(x[i], 0) }
        }
        let saved = out.detached
        return Tensor.record("relu", out, inputs: [self]) { g in
            [Tensor.reluBackward(g, output: saved)]
        }
    }

    /// `g` where `output > 0`, else 0.
    static func reluBackward(_ g: Tensor, output: Tensor) -> Tensor {
        let dx = Tensor(uninitializedShape: g.shape)
        let gp = g.pointer, yp = output.pointer, d = dx.pointer
        Parallel.forRange(g.count) { lo, hi in
            // Explicit SIMD: the scalar `y > 0 ? g : 0` compiles to a branch per element.
            var i = lo
            while i + 8 <= hi {
                let y = UnsafeRawPointer(yp + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(gp + i).loadUnaligned(as: SIMD8<Float>.self)
                let masked = gv.replacing(with: 0, where: y .<= 0)
                UnsafeMutableRawPointer(d + i).storeBytes(of: masked, as: SIMD8<Float>.self)
                i += 8
            }
            while i < hi { d[i] = yp[i] > 0 ? gp[i] : 0; i += 1 }
        }
        return dx
    }
}

/// `relu(a + b)` in one pass (the end of a residual block). Differentiable in both inputs.
/// - Precondition: `a.shape == b.shape`.
public func addReLU(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "TensorKit.addReLU: shapes \(a.shape) and \(b.shape) differ")
    let out = Tensor(uninitializedShape: a.shape)
    let x = a.pointer, z = b.pointer, y = out.pointer
    Parallel.forRange(a.count) { lo, hi in
        for i in lo..<hi { y[i] = Swift.max(x[i] + z[i], 0) }
    }
    let saved = out.detached
    return Tensor.record("addReLU", out, inputs: [a, b]) { g in
        let d = Tensor.reluBackward(g, output: saved)
        return [d, d]
    }
}
