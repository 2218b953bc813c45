import Foundation

/// Adam, exactly as `torch.optim.Adam` (and, through ``AdamW``, `torch.optim.AdamW`):
///
/// ```
/// t += 1
/// p = p * (1 - lr * weight_decay)              (AdamW: decoupled weight decay)
/// g = grad + weight_decay * p                  (Adam: L2 penalty; g = -grad when maximize)
/// m = beta1 * m + (1 - beta1) * g
/// v = beta2 * v + (1 - beta2) * g^2
/// v̂ = max(v̂, v)                                (amsgrad)
/// p = p - lr / (1 - beta1^t) * m / (sqrt(v or v̂) / sqrt(1 - beta2^t) + eps)
/// ```
/// `eps` is added outside the square root. The step count `t` is kept per parameter, so a
/// parameter without a gradient in some step keeps its own bias correction, as in PyTorch.
public class Adam: Optimizer {
    /// The parameters, in the order given at creation (state-dict indices refer to it).
    public let parameters: [Parameter]
    /// The learning rate of the next ``step()``; schedulers set it.
    public var learningRate: Double
    /// The decay rate of the first moment; OneCycleLR cycles it. Same as ``momentum``.
    public var beta1: Double
    /// The decay rate of the second moment.
    public let beta2: Double
    /// Added to the denominator, outside the square root, for numerical stability.
    public let eps: Double
    /// Weight decay: an L2 penalty added to the gradient (``Adam``) or a decoupled
    /// multiplicative decay of the weights (``AdamW``).
    public let weightDecay: Double
    /// Whether to use the maximum of past second moments (AMSGrad).
    public let amsgrad: Bool
    /// Whether to ascend the objective instead of descending it.
    public let maximize: Bool
    /// `true` for AdamW's decoupled weight decay.
    let decoupledWeightDecay: Bool

    struct ParameterState {
        var step: Double
        var expAvg: Tensor
        var expAvgSq: Tensor
        var maxExpAvgSq: Tensor?
    }
    /// Created on a parameter's first step.
    private var states: [ParameterState?]

    /// The kind written into state dicts.
    var kind: String { decoupledWeightDecay ? "AdamW" : "Adam" }

    /// `beta1`, under the name LR schedulers use for the momentum they cycle.
    public var momentum: Double {
        get { beta1 }
        set { beta1 = newValue }
    }

    /// Creates Adam over `parameters` with PyTorch's defaults.
    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:expected:)`` for a negative
    ///   learning rate, eps or weight decay, or betas outside [0, 1);
    ///   ``OptimizerError/duplicateParameter(index:)``.
    public convenience init(
        _ parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false
    ) throws(OptimizerError) {
        try self.init(
            parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
            weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize, decoupled: false)
    }

    init(
        _ parameters: [Parameter], learningRate: Double, beta1: Double, beta2: Double, eps: Double,
        weightDecay: Double, amsgrad: Bool, maximize: Bool, decoupled: Bool
    ) throws(OptimizerError) {
        try OptimizerValidation.check("learningRate", learningRate, ">= 0", learningRate >= 0)
        try OptimizerValidation.check("eps", eps, ">= 0", eps >= 0)
        try OptimizerValidation.check("beta1", beta1, "in [0, 1)", beta1 >= 0 && beta1 < 1)
        try OptimizerValidation.check("beta2", beta2, "in [0, 1)", beta2 >= 0 && beta2 < 1)
        try OptimizerValidation.check("weightDecay", weightDecay, ">= 0", weightDecay >= 0)
        try OptimizerValidation.uniqueParameters(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.maximize = maximize
        self.decoupledWeightDecay = decoupled
        self.states = Array(repeating: nil, count: parameters.count)
    }

    /// Takes one Adam step for every parameter that has a gradient (see ``Optimizer/step()``).
    /// - Throws: ``OptimizerError/gradientShapeMismatch(parameter:parameterShape:gradientShape:)``;
    ///   nothing is changed then.
    public func step() throws(OptimizerError) {
        try validateGradients()
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            var state =
                states[index]
                ?? ParameterState(
                    step: 0, expAvg: Tensor(zeros: parameter.shape), expAvgSq: Tensor(zeros: parameter.shape),
                    maxExpAvgSq: amsgrad ? Tensor(zeros: parameter.shape) : nil)
            states[index] = nil  // keep the state tensors uniquely referenced: updated in place
            state.step += 1
            // As PyTorch: the bias corrections and step size in double precision, then rounded
            // to float by the element-wise kernels.
            let biasCorrection1 = 1 - pow(beta1, state.step)
            let biasCorrection2 = 1 - pow(beta2, state.step)
            let scalars = OptimizerKernels.AdamScalars(
                decoupledDecayFactor: decoupledWeightDecay && weightDecay != 0 ? Float(1 - learningRate * weightDecay) : 1,
                coupledWeightDecay: decoupledWeightDecay ? 0 : Float(weightDecay),
                oneMinusBeta1: Float(1 - beta1), beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2),
                biasCorrection2Sqrt: Float(biasCorrection2.squareRoot()), eps: Float(eps),
                negativeStepSize: Float(-(learningRate / biasCorrection1)), amsgrad: amsgrad, maximize: maximize)
            let count = parameter.value.count
            let p = parameter.value.mutableElements()
            let m = state.expAvg.mutableElements()
            let v = state.expAvgSq.mutableElements()
            let vMax = state.maxExpAvgSq?.mutableElements()
            grad.withUnsafeBufferPointer { g in
                guard let gradient = g.baseAddress else { return }  // an empty parameter
                OptimizerKernels.adam(
                    parameter: p, gradient: gradient, expAvg: m, expAvgSq: v,
                    maxExpAvgSq: vMax, count: count, scalars)
            }
            states[index] = state
        }
    }

    /// Scalars `lr`, `beta1`, `beta2`, `eps`, `weight_decay`, `amsgrad`, `maximize` (0/1) and,
    /// per parameter that has taken a step, tensors `state.<i>.step` (shape `[]`),
    /// `state.<i>.exp_avg`, `state.<i>.exp_avg_sq` and (AMSGrad) `state.<i>.max_exp_avg_sq`:
    /// PyTorch's names.
    public func stateDict() -> OptimizationState {
        var tensors: [String: Tensor] = [:]
        for (index, state) in states.enumerated() {
            guard let state else { continue }
            tensors["state.\(index).step"] = Tensor(Float(state.step))
            tensors["state.\(index).exp_avg"] = state.expAvg
            tensors["state.\(index).exp_avg_sq"] = state.expAvgSq
            if let maxExpAvgSq = state.maxExpAvgSq { tensors["state.\(index).max_exp_avg_sq"] = maxExpAvgSq }
        }
        return OptimizationState(
            kind: kind, tensors: tensors,
            scalars: [
                "lr": learningRate, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weightDecay,
                "amsgrad": amsgrad ? 1 : 0, "maximize": maximize ? 1 : 0,
            ])
    }

    /// Restores the learning rate, beta1 and per-parameter state. The fixed hyperparameters
    /// (beta2, eps, weight decay, amsgrad, maximize) must equal this optimiser's.
    public func loadStateDict(_ state: OptimizationState) throws(OptimizerError) {
        try state.requireKind(kind)
        try state.checkIndices(count: parameters.count)
        let fixed: [(String, Double)] = [
            ("beta2", beta2), ("eps", eps), ("weight_decay", weightDecay),
            ("amsgrad", amsgrad ? 1 : 0), ("maximize", maximize ? 1 : 0),
        ]
        for (key, value) in fixed where try state.scalar(key) != value {
            throw .stateMismatch("\(key) was \(try state.scalar(key)) when saved, this optimiser has \(value)")
        }
        let lr = try state.scalar("lr")
        let savedBeta1 = try state.scalar("beta1")
        var restored: [ParameterState?] = []
        for (index, parameter) in parameters.enumerated() {
            let prefix = "state.\(index)."
            guard let step = try state.tensor(prefix + "step", shape: []) else {
                if let stray = state.tensors.keys.first(where: { $0.hasPrefix(prefix) }) {
                    throw .stateMismatch("\"\(stray)\" without \"\(prefix)step\"")
                }
                restored.append(nil)
                continue
            }
            guard let expAvg = try state.tensor(prefix + "exp_avg", shape: parameter.shape),
                let expAvgSq = try state.tensor(prefix + "exp_avg_sq", shape: parameter.shape)
            else {
                throw .stateMismatch("parameter \(index) has a step count but no exp_avg / exp_avg_sq")
            }
            let maxExpAvgSq = try state.tensor(prefix + "max_exp_avg_sq", shape: parameter.shape)
            guard (maxExpAvgSq != nil) == amsgrad else {
                throw .stateMismatch("parameter \(index): max_exp_avg_sq is \(amsgrad ? "missing" : "present") but amsgrad is \(amsgrad)")
            }
            let known: Set<String> = ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
            if let stray = state.tensors.keys.first(where: { $0.hasPrefix(prefix) && !known.contains(String($0.dropFirst(prefix.count))) })
            {
                throw .stateMismatch("unexpected tensor \"\(stray)\" for \(kind)")
            }
            restored.append(ParameterState(step: Double(step.scalar), expAvg: expAvg, expAvgSq: expAvgSq, maxExpAvgSq: maxExpAvgSq))
        }
        learningRate = lr
        beta1 = savedBeta1
        states = restored
    }
}

/// AdamW, exactly as `torch.optim.AdamW`: Adam with decoupled weight decay, `p *= 1 - lr * wd`
/// before the Adam update instead of adding `wd * p` to the gradient. See ``Adam`` for the
/// update and the state.
public final class AdamW: Adam {
    /// Creates AdamW over `parameters` with PyTorch's defaults (note `weightDecay` 0.01).
    /// - Throws: as ``Adam/init(_:learningRate:beta1:beta2:eps:weightDecay:amsgrad:maximize:)``.
    public init(
        _ parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false
    ) throws(OptimizerError) {
        try super.init(
            parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
            weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize, decoupled: true)
    }
}
