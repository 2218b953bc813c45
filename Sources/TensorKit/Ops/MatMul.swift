/// Matrix product of `[m, k]` and `[k, n]` tensors, giving `[m, n]`. Differentiable.
/// - Precondition: both are rank 2 and the inner dimensions agree.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(
        a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
        "TensorKit.matmul: shapes \(a.shape) and \(b.shape) do not multiply")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let out = Tensor(uninitializedShape: [m, n])
    BLAS.gemm(.none, .none, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: out.pointer, ldc: n, parallel: true)
    let sa = a.detached, sb = b.detached, needA = a.requiresGrad, needB = b.requiresGrad
    return Tensor.record("matmul", out, inputs: [a, b]) { g in
        var da: Tensor?, db: Tensor?
        if needA {
            let t = Tensor(uninitializedShape: [m, k])
            BLAS.gemm(
                .none, .transposed, m: m, n: k, k: n, a: g.pointer, lda: n, b: sb.pointer, ldb: n, c: t.pointer, ldc: k, parallel: true)
            da = t
        }
        if needB {
            let t = Tensor(uninitializedShape: [k, n])
            BLAS.gemm(
                .transposed, .none, m: k, n: n, k: m, a: sa.pointer, lda: k, b: g.pointer, ldb: n, c: t.pointer, ldc: n, parallel: true)
            db = t
        }
        return [da, db]
    }
}

/// A fully connected layer's map, as PyTorch's `F.linear`: `input · weightᵀ + bias`.
///
/// - Parameters:
///   - input: `[batch, inFeatures]`.
///   - weight: `[outFeatures, inFeatures]`.
///   - bias: `[outFeatures]` or `nil`.
/// - Returns: `[batch, outFeatures]`. Differentiable in all inputs.
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(
        input.rank == 2 && weight.rank == 2 && input.shape[1] == weight.shape[1],
        "TensorKit.linear: input shape \(input.shape) does not fit weight shape \(weight.shape) ([out, in])")
    let n = input.shape[0], inF = weight.shape[1], outF = weight.shape[0]
    if let bias {
        precondition(bias.shape == [outF], "TensorKit.linear: bias shape \(bias.shape) does not match \(outF) outputs")
    }
    let out = Tensor(uninitializedShape: [n, outF])
    let y = out.pointer
    if let bias {
        for r in 0..<n { (y + r * outF).update(from: bias.pointer, count: outF) }
    }
    BLAS.gemm(
        .none, .transposed, m: n, n: outF, k: inF, a: input.pointer, lda: inF, b: weight.pointer, ldb: inF,
        beta: bias == nil ? 0 : 1, c: y, ldc: outF, parallel: true)
    let sx = input.detached, sw = weight.detached
    let needX = input.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
    var inputs = [input, weight]
    if let bias { inputs.append(bias) }
    return Tensor.record("linear", out, inputs: inputs) { g in
        var dx: Tensor?, dw: Tensor?, db: Tensor?
        if needX {
            let t = Tensor(uninitializedShape: [n, inF])
            BLAS.gemm(
                .none, .none, m: n, n: inF, k: outF, a: g.pointer, lda: outF, b: sw.pointer, ldb: inF, c: t.pointer, ldc: inF,
                parallel: true)
            dx = t
        }
        if needW {
            let t = Tensor(uninitializedShape: [outF, inF])
            BLAS.gemm(
                .transposed, .none, m: outF, n: inF, k: n, a: g.pointer, lda: outF, b: sx.pointer, ldb: inF, c: t.pointer, ldc: inF,
                parallel: true)
            dw = t
        }
        if needB {
            let t = Tensor(zeros: [outF])
            let gp = g.pointer, tp = t.pointer
            for r in 0..<n { for j in 0..<outF { tp[j] += gp[r * outF + j] } }
            db = t
        }
        return bias == nil ? [dx, dw] : [dx, dw, db]
    }
}
