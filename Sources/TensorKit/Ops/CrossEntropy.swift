import Foundation

/// Mean cross-entropy of logits against class indices, as PyTorch's `F.cross_entropy` with
/// `label_smoothing`: the target of row `i` is `(1 − ε)·onehot(labels[i]) + ε / classes`.
///
/// - Parameters:
///   - logits: `[batch, classes]` unnormalised scores.
///   - labels: `batch` class indices in `0..<classes`.
///   - labelSmoothing: ε in `[0, 1]` (default 0).
/// - Returns: a rank-0 tensor, differentiable in `logits`.
/// - Precondition: shapes agree and every label is in range.
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> Tensor {
    precondition(
        logits.rank == 2 && logits.shape[0] == labels.count,
        "TensorKit.crossEntropy: logits shape \(logits.shape) needs [batch, classes] with batch = \(labels.count) labels")
    let classes = logits.shape[1]
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
        preconditionFailure("TensorKit.crossEntropy: label \(bad) is outside 0..<\(classes)")
    }
    var q = Tensor(zeros: logits.shape)
    let eps = labelSmoothing
    q.withUnsafeMutableBufferPointer { qp in
        for (i, label) in labels.enumerated() {
            for j in 0..<classes { qp[i * classes + j] = eps / Float(classes) }
            qp[i * classes + label] += 1 - eps
        }
    }
    return CrossEntropyKernels.loss(logits, targets: q)
}

/// Mean cross-entropy of logits against probability targets (soft labels, as produced by
/// MixUp), as PyTorch's `F.cross_entropy` with class-probability targets:
/// `mean_i Σ_c −q_ic · log softmax(logits)_ic` with `q = (1 − ε)·targets + ε / classes`.
///
/// - Parameters:
///   - logits: `[batch, classes]`.
///   - targets: `[batch, classes]`, each row normally summing to 1. Treated as a constant.
///   - labelSmoothing: ε in `[0, 1]` (default 0).
/// - Returns: a rank-0 tensor, differentiable in `logits`.
public func crossEntropy(_ logits: Tensor, targets: Tensor, labelSmoothing: Float = 0) -> Tensor {
    precondition(
        logits.rank == 2 && targets.shape == logits.shape,
        "TensorKit.crossEntropy: logits shape \(logits.shape) and targets shape \(targets.shape) must both be [batch, classes]")
    let classes = logits.shape[1]
    var q = targets.detached
    if labelSmoothing != 0 {
        let eps = labelSmoothing
        q = Tensor(uninitializedShape: targets.shape)
        Kernels.affine(targets.pointer, 1 - eps, eps / Float(classes), q.pointer, count: q.count)
    }
    return CrossEntropyKernels.loss(logits, targets: q)
}

enum CrossEntropyKernels {
    static func loss(_ logits: Tensor, targets q: Tensor) -> Tensor {
        let rows = logits.shape[0], cols = logits.shape[1]
        let logp = Tensor(uninitializedShape: logits.shape)
        SoftmaxKernels.forward(logits.pointer, logp.pointer, rows: rows, cols: cols, log: true)
        var total = 0.0
        do {
            let lp = logp.pointer, qp = q.pointer
            for i in 0..<rows * cols { total -= Double(qp[i]) * Double(lp[i]) }
        }
        let value = rows > 0 ? Float(total / Double(rows)) : 0
        return Tensor.record("crossEntropy", Tensor(value), inputs: [logits]) { g in
            // d/dlogits = (softmax · Σq − q) / batch
            let scale = g.scalar / Float(rows)
            let dx = Tensor(uninitializedShape: [rows, cols])
            let d = dx.pointer, lp = logp.pointer, qp = q.pointer
            for r in 0..<rows {
                var sq: Float = 0
                for j in 0..<cols { sq += qp[r * cols + j] }
                for j in 0..<cols {
                    let i = r * cols + j
                    d[i] = scale * (Foundation.exp(lp[i]) * sq - qp[i])
                }
            }
            return [dx]
        }
    }
}
