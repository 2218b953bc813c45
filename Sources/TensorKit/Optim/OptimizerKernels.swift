/// Element-wise update loops of the optimisers, on raw buffers, split over the cores for large
/// parameters. Each mirrors the sequence of PyTorch's single-tensor CPU implementation
/// (`torch/optim/sgd.py`, `adam.py`, `_single_tensor_*`), rounding to `Float` after the same
/// operations, so results agree with torch.optim to a few ulps.
enum OptimizerKernels {
    /// Scalars of one SGD step, already rounded to `Float` as PyTorch's kernels round them.
    struct SGDScalars {
        var negativeLearningRate: Float
        var weightDecay: Float
        var momentum: Float
        var oneMinusDampening: Float
        var nesterov: Bool
        var maximize: Bool
    }

    /// `p -= lr * d` where `g = ±grad + wd * p`, `buf = momentum * buf + (1 - dampening) * g`
    /// (or `buf = g` when `initializeBuffer`), and `d = g + momentum * buf` (Nesterov), `buf`
    /// (momentum) or `g` (no momentum: `buffer` is nil).
    static func sgd(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>?,
        initializeBuffer: Bool, count: Int, _ s: SGDScalars
    ) {
        Parallel.forRange(count, grain: 65_536) { lo, hi in
            for i in lo..<hi {
                var g = s.maximize ? -gradient[i] : gradient[i]
                if s.weightDecay != 0 { g = g + s.weightDecay * parameter[i] }
                if let buffer {
                    let b: Float
                    if initializeBuffer {
                        b = g
                    } else {
                        let decayed = buffer[i] * s.momentum
                        b = decayed + s.oneMinusDampening * g
                    }
                    buffer[i] = b
                    g = s.nesterov ? g + s.momentum * b : b
                }
                parameter[i] = parameter[i] + s.negativeLearningRate * g
            }
        }
    }

    /// Scalars of one Adam/AdamW step, rounded to `Float` as PyTorch's kernels round them.
    struct AdamScalars {
        /// `1 - lr * weight_decay` (AdamW) or 1.
        var decoupledDecayFactor: Float
        /// `weight_decay` added to the gradient (Adam) or 0.
        var coupledWeightDecay: Float
        /// `1 - beta1`, the `lerp` weight of the first moment.
        var oneMinusBeta1: Float
        var beta2: Float
        var oneMinusBeta2: Float
        /// `sqrt(1 - beta2^step)`.
        var biasCorrection2Sqrt: Float
        var eps: Float
        /// `-lr / (1 - beta1^step)`.
        var negativeStepSize: Float
        var amsgrad: Bool
        var maximize: Bool
    }

    /// One Adam step: `m = lerp(m, g, 1 - beta1)`, `v = beta2 * v + (1 - beta2) * g * g`,
    /// `p += -step_size * m / (sqrt(max(vmax, v)) / sqrt(bc2) + eps)`.
    static func adam(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        expAvg: UnsafeMutablePointer<Float>, expAvgSq: UnsafeMutablePointer<Float>,
        maxExpAvgSq: UnsafeMutablePointer<Float>?, count: Int, _ s: AdamScalars
    ) {
        Parallel.forRange(count, grain: 32_768) { lo, hi in
            let w = s.oneMinusBeta1
            let smallWeight = w < 0.5
            for i in lo..<hi {
                var p = parameter[i]
                if s.decoupledDecayFactor != 1 { p = p * s.decoupledDecayFactor }
                var g = s.maximize ? -gradient[i] : gradient[i]
                if s.coupledWeightDecay != 0 { g = g + s.coupledWeightDecay * p }
                // at::lerp picks the formulation that is exact at its nearer end.
                let m0 = expAvg[i]
                let m = smallWeight ? m0 + w * (g - m0) : g - (g - m0) * (1 - w)
                expAvg[i] = m
                let decayed = expAvgSq[i] * s.beta2
                let v = decayed + s.oneMinusBeta2 * g * g
                expAvgSq[i] = v
                var second = v
                if let maxExpAvgSq {
                    second = max(maxExpAvgSq[i], v)
                    maxExpAvgSq[i] = second
                }
                let denominator = second.squareRoot() / s.biasCorrection2Sqrt + s.eps
                parameter[i] = p + s.negativeStepSize * (m / denominator)
            }
        }
    }
}
