extension Tensor {
    private static func checkSameShape(_ op: String, _ a: Tensor, _ b: Tensor) {
        precondition(
            a.shape == b.shape,
            "TensorKit: `\(op)` needs equal shapes, got \(a.shape) and \(b.shape) (no broadcasting)")
    }

    /// Elementwise sum of tensors of equal shape. Differentiable.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        checkSameShape("+", a, b)
        let out = Tensor(uninitializedShape: a.shape)
        Kernels.add(a.pointer, b.pointer, out.pointer, count: a.count)
        return record("add", out, inputs: [a, b]) { g in [g, g] }
    }

    /// Elementwise difference of tensors of equal shape. Differentiable.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        checkSameShape("-", a, b)
        let out = Tensor(uninitializedShape: a.shape)
        Kernels.sub(a.pointer, b.pointer, out.pointer, count: a.count)
        let needB = b.requiresGrad
        return record("sub", out, inputs: [a, b]) { g in [g, needB ? g * -1 : nil] }
    }

    /// Elementwise product of tensors of equal shape. Differentiable.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        checkSameShape("*", a, b)
        let out = Tensor(uninitializedShape: a.shape)
        Kernels.mul(a.pointer, b.pointer, out.pointer, count: a.count)
        let sa = a.detached, sb = b.detached, needA = a.requiresGrad, needB = b.requiresGrad
        return record("mul", out, inputs: [a, b]) { g in
            [needA ? withNoGrad { g * sb } : nil, needB ? withNoGrad { g * sa } : nil]
        }
    }

    /// Elementwise quotient of tensors of equal shape. Differentiable.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        checkSameShape("/", a, b)
        let out = Tensor(uninitializedShape: a.shape)
        Kernels.div(a.pointer, b.pointer, out.pointer, count: a.count)
        let sb = b.detached, so = out.detached, needA = a.requiresGrad, needB = b.requiresGrad
        return record("div", out, inputs: [a, b]) { g in
            withNoGrad {
                let ga = g / sb
                return [needA ? ga : nil, needB ? (ga * so) * -1 : nil]
            }
        }
    }

    /// Every element plus `s`. Differentiable.
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    /// Every element minus `s`. Differentiable.
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    /// Every element times `s`. Differentiable.
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    /// `s` times every element. Differentiable.
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    /// Every element divided by `s`. Differentiable.
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    /// Every element negated. Differentiable.
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// `scale · x + shift` elementwise. Differentiable.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.affine(pointer, scale, shift, out.pointer, count: count)
        return Tensor.record("affine", out, inputs: [self]) { g in
            let d = Tensor(uninitializedShape: g.shape)
            Kernels.scale(g.pointer, scale, d.pointer, count: g.count)
            return [d]
        }
    }

    /// Elementwise exponential. Differentiable.
    public func exp() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let x = pointer, y = out.pointer
        Parallel.forRange(count) { lo, hi in for i in lo..<hi { y[i] = Foundation.exp(x[i]) } }
        let so = out.detached
        return Tensor.record("exp", out, inputs: [self]) { g in [withNoGrad { g * so }] }
    }

    /// Elementwise natural logarithm. Differentiable.
    public func log() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let x = pointer, y = out.pointer
        Parallel.forRange(count) { lo, hi in for i in lo..<hi { y[i] = Foundation.log(x[i]) } }
        let sx = detached
        return Tensor.record("log", out, inputs: [self]) { g in [withNoGrad { g / sx }] }
    }
}

import Foundation
