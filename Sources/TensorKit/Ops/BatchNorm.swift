/// Batch normalisation over the channels of an NCHW tensor, as PyTorch's `F.batch_norm`,
/// optionally followed by ReLU in the same pass.
///
/// - Parameters:
///   - input: `[batch, channels, height, width]`.
///   - weight: `[channels]` scale (γ), or `nil` for 1.
///   - bias: `[channels]` shift (β), or `nil` for 0.
///   - runningMean: `[channels]` running mean. In training it is updated as
///     `(1 − momentum)·running + momentum·batch`; in evaluation it normalises the input.
///   - runningVar: `[channels]` running variance, updated like `runningMean` with the
///     *unbiased* batch variance (PyTorch's convention).
///   - training: use the batch's statistics (`true`) or the running ones (`false`).
///   - momentum: weight of the new batch in the running statistics (PyTorch's default 0.1).
///   - eps: added to the variance before the square root (default 1e-5).
///   - residual: a tensor of the input's shape added to the normalised result before the
///     optional ReLU, in the same pass (the end of a residual block: `relu(bn(x) + shortcut)`).
///   - fusedReLU: apply `max(·, 0)` to the result in the same pass.
///   - replicaStatistics: in training, sum the per-channel statistics of the forward and the
///     backward pass across the replicas of a data-parallel run (synchronised batch norm), so
///     that the result is that of the whole global batch; `nil` uses this batch alone.
/// - Returns: a tensor of the input's shape. Differentiable in `input`, `weight`, `bias` and
///   `residual`.
/// - Precondition: shapes agree; in training there is more than one value per channel.
public func batchNorm2d(
    _ input: Tensor, weight: Tensor?, bias: Tensor?,
    runningMean: inout Tensor, runningVar: inout Tensor,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5,
    residual: Tensor? = nil, fusedReLU: Bool = false, replicaStatistics: (any ReplicaStatistics)? = nil
) -> Tensor {
    batchNorm2d(
        input, weight: weight, bias: bias, runningMean: &runningMean, runningVar: &runningVar, training: training,
        momentum: momentum, eps: eps, residual: residual, fusedReLU: fusedReLU, replicaStatistics: replicaStatistics,
        moments: nil)
}

/// The same, with training statistics taken from `moments` (the input's, added up by the
/// convolution that produced it) instead of read from the input, when given (and not
/// synchronised across replicas).
package func batchNorm2d(
    _ input: Tensor, weight: Tensor?, bias: Tensor?,
    runningMean: inout Tensor, runningVar: inout Tensor,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5,
    residual: Tensor? = nil, fusedReLU: Bool = false, replicaStatistics: (any ReplicaStatistics)? = nil,
    moments: ChannelMoments?
) -> Tensor {
    precondition(input.rank == 4, "TensorKit.batchNorm2d: input must be [N, C, H, W], got shape \(input.shape)")
    let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
    for (name, t) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)] {
        if let t {
            precondition(
                t.shape == [c], "TensorKit.batchNorm2d: \(name) shape \(t.shape) does not match \(c) channels of input \(input.shape)")
        }
    }
    if let residual {
        precondition(
            residual.shape == input.shape,
            "TensorKit.batchNorm2d: residual shape \(residual.shape) differs from input shape \(input.shape)")
    }
    let m = n * hw
    precondition(
        !training || m > 1,
        "TensorKit.batchNorm2d: training needs more than one value per channel, input shape \(input.shape)")
    let mean = Tensor(uninitializedShape: [c]), invStd = Tensor(uninitializedShape: [c])
    let x = input.pointer, mp = mean.pointer, sp = invStd.pointer
    if training, let replicaStatistics {
        runningMean.makeUnique()
        runningVar.makeUnique()
        BatchNormKernels.replicaStatistics(
            x, n: n, c: c, hw: hw, eps: eps, momentum: momentum, mean: mp, invStd: sp,
            runningMean: runningMean.pointer, runningVar: runningVar.pointer, replicas: replicaStatistics)
    } else if training {
        runningMean.makeUnique()
        runningVar.makeUnique()
        let rm = runningMean.pointer, rv = runningVar.pointer
        @inline(__always) func record(_ ch: Int, mean mu: Double, variance: Double) {
            let muF = Float(mu)
            mp[ch] = muF
            sp[ch] = Float(1 / (variance + Double(eps)).squareRoot())
            rm[ch] = (1 - momentum) * rm[ch] + momentum * muF
            rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(variance * Double(m) / Double(m - 1))
        }
        if let moments {
            precondition(
                moments.count == m && moments.sums.count == c,
                "TensorKit.batchNorm2d: moments of \(moments.sums.count) channels of \(moments.count) values for input \(input.shape)")
            for ch in 0..<c {
                let (mu, variance) = moments.statistics(ch)
                record(ch, mean: mu, variance: variance)
            }
        } else {
            Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
                for ch in lo..<hi {
                    var s = 0.0
                    for b in 0..<n { s += Kernels.sum(x + (b * c + ch) * hw, count: hw) }
                    let mu = s / Double(m)
                    var ss = 0.0
                    let muF = Float(mu)
                    for b in 0..<n { ss += Kernels.sumOfSquares(x + (b * c + ch) * hw, centredOn: muF, count: hw) }
                    record(ch, mean: mu, variance: ss / Double(m))
                }
            }
        }
    } else {
        let rm = runningMean.pointer, rv = runningVar.pointer
        for ch in 0..<c {
            mp[ch] = rm[ch]
            sp[ch] = 1 / (rv[ch] + eps).squareRoot()
        }
    }
    let out = Tensor(uninitializedShape: input.shape)
    let y = out.pointer, gp = weight?.pointer, bp = bias?.pointer, rp = residual?.pointer
    @inline(__always) func normalise(plane: Int) {
        let gate = BatchNormKernels.gate(channel: plane % c, weight: gp, bias: bp, mean: mp, invStd: sp)
        let src = x + plane * hw, dst = y + plane * hw
        if let rp {
            let r = rp + plane * hw
            if fusedReLU {
                for i in 0..<hw { dst[i] = Swift.max(gate.affine(src[i]) + r[i], 0) }
            } else {
                for i in 0..<hw { dst[i] = gate.affine(src[i]) + r[i] }
            }
        } else if fusedReLU {
            for i in 0..<hw { dst[i] = Swift.max(gate.affine(src[i]), 0) }
        } else {
            for i in 0..<hw { dst[i] = gate.affine(src[i]) }
        }
    }
    Parallel.forRange(n * c, grain: 1, cost: hw) { lo, hi in
        for plane in lo..<hi { normalise(plane: plane) }
    }
    var inputs = [input]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    if let residual { inputs.append(residual) }
    let hasResidual = residual != nil
    // Save only what backward reads: the output only for the mask of a ReLU after a residual
    // sum (without one, the mask is rebuilt from the input; without ReLU the output is often
    // consumed at once, and keeping it would hold a whole map per layer).
    let savedX = input.detached, savedY: Tensor? = fusedReLU && hasResidual ? out.detached : nil
    let savedW = weight?.detached, savedB = bias?.detached
    let needX = input.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
    let hasW = weight != nil, hasB = bias != nil
    return Tensor.record(fusedReLU ? "batchNorm2d+relu" : "batchNorm2d", out, inputs: inputs) { g in
        // The residual's gradient is the masked gradient itself, so then it is materialised;
        // otherwise the kernel masks on the fly and no extra map is allocated (at the stem of a
        // batch-32 step that map is 113 MB, and it would sit in the buffer cache all step).
        let dy = hasResidual ? savedY.map { Tensor.reluBackward(g, output: $0) } ?? g : g
        let grads = BatchNormKernels.backward(
            dy: dy, fusedReLU: fusedReLU && !hasResidual, x: savedX, weight: savedW, bias: savedB,
            mean: mean, invStd: invStd, training: training, needX: needX,
            replicaStatistics: training ? replicaStatistics : nil)
        var result: [Tensor?] = [grads.dx]
        if hasW { result.append(needW ? grads.dWeight : nil) }
        if hasB { result.append(needB ? grads.dBias : nil) }
        if hasResidual { result.append(dy) }
        return result
    }
}

enum BatchNormKernels {
    /// `γ·σ⁻¹` and `β − μ·γ·σ⁻¹` of channel `ch`: the forward pass's output is `a·x + shift`
    /// (before a residual and a ReLU), and a fused ReLU's mask is this gate's.
    @inline(__always)
    static func gate(
        channel ch: Int, weight gp: UnsafePointer<Float>?, bias bp: UnsafePointer<Float>?,
        mean mp: UnsafePointer<Float>, invStd sp: UnsafePointer<Float>
    ) -> ReLUGate {
        let a = (gp?[ch] ?? 1) * sp[ch]
        return ReLUGate(a: a, shift: (bp?[ch] ?? 0) - mp[ch] * a)
    }

    /// Gradients of batch norm given the output gradient `dy`, masked element by element by
    /// the ReLU fused after it when `fusedReLU` (without a residual: the mask is rebuilt from
    /// `x`, `weight`, `bias` and the statistics, as the forward pass computed the output).
    static func backward(
        dy: Tensor, fusedReLU: Bool = false, x: Tensor, weight: Tensor?, bias: Tensor? = nil, mean: Tensor,
        invStd: Tensor, training: Bool, needX: Bool, replicaStatistics: (any ReplicaStatistics)? = nil
    ) -> (dx: Tensor?, dWeight: Tensor, dBias: Tensor) {
        let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3], m = n * hw
        if let replicaStatistics {
            return synchronisedBackward(
                dy: dy, fusedReLU: fusedReLU, x: x, weight: weight, bias: bias, mean: mean, invStd: invStd,
                needX: needX, replicas: replicaStatistics)
        }
        let dWeight = Tensor(uninitializedShape: [c]), dBias = Tensor(uninitializedShape: [c])
        let dx: Tensor? = needX ? Tensor(uninitializedShape: x.shape) : nil
        let g = dy.pointer, xp = x.pointer, mp = mean.pointer, sp = invStd.pointer
        let wp = weight?.pointer, bp = bias?.pointer, dwp = dWeight.pointer, dbp = dBias.pointer, dxp = dx?.pointer
        Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
            for ch in lo..<hi {
                let mu = mp[ch], istd = sp[ch]
                let relu = fusedReLU ? gate(channel: ch, weight: wp, bias: bp, mean: mp, invStd: sp) : nil
                var sumDy = 0.0, sumDyXc = 0.0
                for b in 0..<n {
                    let plane = (b * c + ch) * hw
                    let (s1, s2) = Kernels.sumAndCentredDot(
                        g + plane, xp + plane, centredOn: mu, gate: relu, count: hw)
                    sumDy += s1; sumDyXc += s2
                }
                dbp[ch] = Float(sumDy)
                dwp[ch] = Float(sumDyXc * Double(istd))
                guard let dxp else { continue }
                let gamma = wp?[ch] ?? 1
                if training {
                    trainingInputGradient(
                        channel: ch, n: n, c: c, hw: hw, dy: g, x: xp, relu: relu, dx: dxp, gamma: gamma,
                        mean: mu, invStd: istd, meanDy: Float(sumDy / Double(m)), meanDyXc: Float(sumDyXc / Double(m)))
                } else {
                    let k = gamma * istd
                    for b in 0..<n {
                        let gs = g + (b * c + ch) * hw, xs = xp + (b * c + ch) * hw, ds = dxp + (b * c + ch) * hw
                        if let relu {
                            var i = 0
                            while i + 8 <= hw {
                                let d = relu.apply(load8(gs, i), input: load8(xs, i))
                                UnsafeMutableRawPointer(ds + i).storeBytes(of: k * d, as: SIMD8<Float>.self)
                                i += 8
                            }
                            while i < hw { ds[i] = k * relu.apply(gs[i], input: xs[i]); i += 1 }
                        } else {
                            for i in 0..<hw { ds[i] = k * gs[i] }
                        }
                    }
                }
            }
        }
        return (dx, dWeight, dBias)
    }

    /// dx = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)) for one channel, with `dy` masked by the
    /// fused ReLU's gate when given; `meanDyXc` is mean(dy·(x − μ)).
    @inline(__always)
    static func trainingInputGradient(
        channel ch: Int, n: Int, c: Int, hw: Int, dy g: UnsafeMutablePointer<Float>, x xp: UnsafeMutablePointer<Float>,
        relu: ReLUGate?, dx dxp: UnsafeMutablePointer<Float>, gamma: Float,
        mean mu: Float, invStd istd: Float, meanDy: Float, meanDyXc: Float
    ) {
        let k = gamma * istd
        let proj = meanDyXc * istd * istd
        for b in 0..<n {
            let gs = g + (b * c + ch) * hw, xs = xp + (b * c + ch) * hw, ds = dxp + (b * c + ch) * hw
            if let relu {
                var i = 0
                while i + 8 <= hw {
                    let xv = load8(xs, i)
                    let r = k * (relu.apply(load8(gs, i), input: xv) - meanDy - (xv - mu) * proj)
                    UnsafeMutableRawPointer(ds + i).storeBytes(of: r, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < hw {
                    let d = relu.apply(gs[i], input: xs[i])
                    ds[i] = k * (d - meanDy - (xs[i] - mu) * proj)
                    i += 1
                }
            } else {
                for i in 0..<hw { ds[i] = k * (gs[i] - meanDy - (xs[i] - mu) * proj) }
            }
        }
    }

    /// The training statistics of a batch norm synchronised across replicas: the mean and the
    /// (biased) variance of each channel over every replica's batch, in two passes (a sum, then
    /// squares centred on the global mean) with one reduction each, and the running statistics
    /// updated from them (unbiased over the global count), as a single process with the whole
    /// batch would.
    static func replicaStatistics(
        _ x: UnsafeMutablePointer<Float>, n: Int, c: Int, hw: Int, eps: Float, momentum: Float,
        mean mp: UnsafeMutablePointer<Float>, invStd sp: UnsafeMutablePointer<Float>,
        runningMean rm: UnsafeMutablePointer<Float>, runningVar rv: UnsafeMutablePointer<Float>,
        replicas: any ReplicaStatistics
    ) {
        let m = n * hw
        var sums = [Double](repeating: 0, count: c + 1)
        sums.withUnsafeMutableBufferPointer { s in
            let sp = s.baseAddress!
            Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
                for ch in lo..<hi {
                    var total = 0.0
                    for b in 0..<n { total += Kernels.sum(x + (b * c + ch) * hw, count: hw) }
                    sp[ch] = total
                }
            }
        }
        sums[c] = Double(m)
        replicas.sumAcrossReplicas(&sums)
        let count = sums[c]
        for ch in 0..<c { mp[ch] = Float(sums[ch] / count) }
        var squares = [Double](repeating: 0, count: c)
        squares.withUnsafeMutableBufferPointer { s in
            let qp = s.baseAddress!
            Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
                for ch in lo..<hi {
                    var total = 0.0
                    for b in 0..<n { total += Kernels.sumOfSquares(x + (b * c + ch) * hw, centredOn: mp[ch], count: hw) }
                    qp[ch] = total
                }
            }
        }
        replicas.sumAcrossReplicas(&squares)
        for ch in 0..<c {
            let variance = squares[ch] / count
            sp[ch] = Float(1 / (variance + Double(eps)).squareRoot())
            rm[ch] = (1 - momentum) * rm[ch] + momentum * mp[ch]
            rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(variance * count / Swift.max(count - 1, 1))
        }
    }

    /// The training backward pass of a synchronised batch norm: the per-channel sums of dy and
    /// dy·(x − μ) are summed across replicas before dx is formed (dγ and dβ stay local; they are
    /// summed with every other gradient).
    static func synchronisedBackward(
        dy: Tensor, fusedReLU: Bool, x: Tensor, weight: Tensor?, bias: Tensor?, mean: Tensor, invStd: Tensor,
        needX: Bool, replicas: any ReplicaStatistics
    ) -> (dx: Tensor?, dWeight: Tensor, dBias: Tensor) {
        let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3], m = n * hw
        let dWeight = Tensor(uninitializedShape: [c]), dBias = Tensor(uninitializedShape: [c])
        let dx: Tensor? = needX ? Tensor(uninitializedShape: x.shape) : nil
        let g = dy.pointer, xp = x.pointer, mp = mean.pointer, sp = invStd.pointer
        let wp = weight?.pointer, bp = bias?.pointer, dwp = dWeight.pointer, dbp = dBias.pointer
        @inline(__always) func relu(_ ch: Int) -> ReLUGate? {
            fusedReLU ? gate(channel: ch, weight: wp, bias: bp, mean: mp, invStd: sp) : nil
        }
        var sums = [Double](repeating: 0, count: 2 * c + 1)
        sums.withUnsafeMutableBufferPointer { s in
            let sums = s.baseAddress!
            Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
                for ch in lo..<hi {
                    var sumDy = 0.0, sumDyXc = 0.0
                    for b in 0..<n {
                        let plane = (b * c + ch) * hw
                        let (s1, s2) = Kernels.sumAndCentredDot(
                            g + plane, xp + plane, centredOn: mp[ch], gate: relu(ch), count: hw)
                        sumDy += s1; sumDyXc += s2
                    }
                    dbp[ch] = Float(sumDy)
                    dwp[ch] = Float(sumDyXc * Double(sp[ch]))
                    sums[ch] = sumDy
                    sums[c + ch] = sumDyXc
                }
            }
        }
        guard let dxp = dx?.pointer else { return (dx, dWeight, dBias) }
        sums[2 * c] = Double(m)
        replicas.sumAcrossReplicas(&sums)
        let count = sums[2 * c]
        sums.withUnsafeBufferPointer { s in
            let sums = s.baseAddress!
            Parallel.forRange(c, grain: 1, cost: m) { lo, hi in
                for ch in lo..<hi {
                    trainingInputGradient(
                        channel: ch, n: n, c: c, hw: hw, dy: g, x: xp, relu: relu(ch), dx: dxp, gamma: wp?[ch] ?? 1,
                        mean: mp[ch], invStd: sp[ch], meanDy: Float(sums[ch] / count),
                        meanDyXc: Float(sums[c + ch] / count))
                }
            }
        }
        return (dx, dWeight, dBias)
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }
}
