/// Stochastic gradient descent with optional momentum, Nesterov momentum, dampening and
/// (L2) weight decay, exactly as `torch.optim.SGD`:
///
/// ```
/// g = grad + weight_decay * p                  (g = -grad when maximize)
/// buf = g (first step) | momentum * buf + (1 - dampening) * g
/// d = g + momentum * buf (Nesterov) | buf (momentum) | g
/// p = p - lr * d
/// ```
public final class SGD: Optimizer {
    /// The parameters, in the order given at creation (state-dict indices refer to it).
    public let parameters: [Parameter]
    /// The learning rate of the next ``step()``; schedulers set it.
    public var learningRate: Double
    /// The momentum factor (0 disables momentum and its buffers).
    public var momentum: Double
    /// Dampening of the gradient added to the momentum buffer.
    public let dampening: Double
    /// L2 penalty added to the gradient.
    public let weightDecay: Double
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool
    /// Whether to ascend the objective instead of descending it.
    public let maximize: Bool
    /// Momentum buffers, created on a parameter's first step with momentum.
    private var momentumBuffers: [Tensor?]

    /// Creates an optimiser over `parameters`.
    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:expected:)`` for a negative
    ///   learning rate, momentum or weight decay, or Nesterov without momentum or with dampening;
    ///   ``OptimizerError/duplicateParameter(index:)``.
    public init(
        _ parameters: [Parameter], learningRate: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
        weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false
    ) throws(OptimizerError) {
        try OptimizerValidation.check("learningRate", learningRate, ">= 0", learningRate >= 0)
        try OptimizerValidation.check("momentum", momentum, ">= 0", momentum >= 0)
        try OptimizerValidation.check("weightDecay", weightDecay, ">= 0", weightDecay >= 0)
        try OptimizerValidation.check("dampening", dampening, "a finite number", dampening.isFinite)
        if nesterov {
            try OptimizerValidation.check("momentum", momentum, "> 0 with Nesterov", momentum > 0)
            try OptimizerValidation.check("dampening", dampening, "0 with Nesterov", dampening == 0)
        }
        try OptimizerValidation.uniqueParameters(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.maximize = maximize
        self.momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    /// Takes one SGD step for every parameter that has a gradient (see ``Optimizer/step()``).
    /// - Throws: ``OptimizerError/gradientShapeMismatch(parameter:parameterShape:gradientShape:)``;
    ///   nothing is changed then.
    public func step() throws(OptimizerError) {
        try validateGradients()
        let scalars = OptimizerKernels.SGDScalars(
            negativeLearningRate: Float(-learningRate), weightDecay: Float(weightDecay), momentum: Float(momentum),
            oneMinusDampening: Float(1 - dampening), nesterov: nesterov, maximize: maximize)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let count = parameter.value.count
            let p = parameter.value.mutableElements()
            grad.withUnsafeBufferPointer { g in
                guard let gradient = g.baseAddress else { return }  // an empty parameter
                if momentum != 0 {
                    let initialize = momentumBuffers[index] == nil
                    var buffer = momentumBuffers[index] ?? Tensor(uninitializedShape: parameter.shape)
                    momentumBuffers[index] = nil  // keep the buffer uniquely referenced: no copy
                    OptimizerKernels.sgd(
                        parameter: p, gradient: gradient, buffer: buffer.mutableElements(),
                        initializeBuffer: initialize, count: count, scalars)
                    momentumBuffers[index] = buffer
                } else {
                    OptimizerKernels.sgd(
                        parameter: p, gradient: gradient, buffer: nil,
                        initializeBuffer: false, count: count, scalars)
                }
            }
        }
    }

    /// Scalars `lr`, `momentum`, `dampening`, `weight_decay`, `nesterov`, `maximize` (0/1) and
    /// tensors `state.<i>.momentum_buffer` for parameters that have one.
    public func stateDict() -> OptimizationState {
        var tensors: [String: Tensor] = [:]
        for (index, buffer) in momentumBuffers.enumerated() {
            if let buffer { tensors["state.\(index).momentum_buffer"] = buffer }
        }
        return OptimizationState(
            kind: "SGD", tensors: tensors,
            scalars: [
                "lr": learningRate, "momentum": momentum, "dampening": dampening, "weight_decay": weightDecay,
                "nesterov": nesterov ? 1 : 0, "maximize": maximize ? 1 : 0,
            ])
    }

    /// Restores the learning rate, momentum and momentum buffers. The fixed hyperparameters
    /// (dampening, weight decay, Nesterov, maximize) must equal this optimiser's.
    public func loadStateDict(_ state: OptimizationState) throws(OptimizerError) {
        try state.requireKind("SGD")
        try state.checkIndices(count: parameters.count)
        let fixed: [(String, Double)] = [
            ("dampening", dampening), ("weight_decay", weightDecay),
            ("nesterov", nesterov ? 1 : 0), ("maximize", maximize ? 1 : 0),
        ]
        for (key, value) in fixed where try state.scalar(key) != value {
            throw .stateMismatch("\(key) was \(try state.scalar(key)) when saved, this optimiser has \(value)")
        }
        let lr = try state.scalar("lr")
        let savedMomentum = try state.scalar("momentum")
        var buffers: [Tensor?] = []
        for (index, parameter) in parameters.enumerated() {
            buffers.append(try state.tensor("state.\(index).momentum_buffer", shape: parameter.shape))
        }
        for key in state.tensors.keys where !key.hasSuffix(".momentum_buffer") {
            throw .stateMismatch("unexpected tensor \"\(key)\" for SGD")
        }
        learningRate = lr
        momentum = savedMomentum
        momentumBuffers = buffers
    }
}
