/// A first-order optimiser in the manner of `torch.optim`: it holds a list of parameters and
/// their per-parameter state, and ``step()`` updates each parameter's value in place from its
/// gradient.
///
/// Typical use, one iteration:
/// ```swift
/// optimizer.zeroGrad()
/// let loss = crossEntropy(model(x), labels: labels)
/// loss.backward()
/// try optimizer.step()
/// try scheduler.step()
/// ```
/// All parameters form one group with one set of hyperparameters (PyTorch's single
/// `param_groups[0]`). Hyperparameters are `Double`, as PyTorch's Python floats, so derived
/// scalars (bias corrections, schedules) are computed exactly as PyTorch computes them before
/// being rounded to `Float` for the element-wise update.
public protocol Optimizer: AnyObject {
    /// The parameters, in the order given at creation; state-dict indices refer to this order.
    var parameters: [Parameter] { get }
    /// The learning rate of the next ``step()``; LR schedulers set it.
    var learningRate: Double { get set }
    /// The momentum a scheduler may cycle: SGD's `momentum`, Adam's and AdamW's `beta1`.
    var momentum: Double { get set }
    /// Updates every parameter that has a gradient; parameters whose ``Parameter/grad`` is `nil`
    /// are skipped and their state is left untouched, as in PyTorch.
    /// - Throws: ``OptimizerError/gradientShapeMismatch(parameter:parameterShape:gradientShape:)``
    ///   when a gradient's shape differs from its parameter's; no parameter is changed then.
    func step() throws(OptimizerError)
    /// The optimiser's hyperparameters and per-parameter state, for checkpoints.
    func stateDict() -> OptimizationState
    /// Restores hyperparameters and per-parameter state saved by ``stateDict()`` of an optimiser
    /// of the same kind over parameters of the same shapes, so training continues exactly.
    /// - Throws: ``OptimizerError/stateMismatch(_:)`` naming the entry that does not fit;
    ///   nothing is changed then.
    func loadStateDict(_ state: OptimizationState) throws(OptimizerError)
}

extension Optimizer {
    /// Clears the gradient of every parameter (sets it to `nil`, as PyTorch's default
    /// `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }

    /// Checks every gradient's shape before anything is updated, so a failing step changes nothing.
    func validateGradients() throws(OptimizerError) {
        for (index, parameter) in parameters.enumerated() {
            if let grad = parameter.grad, grad.shape != parameter.value.shape {
                throw .gradientShapeMismatch(parameter: index, parameterShape: parameter.value.shape, gradientShape: grad.shape)
            }
        }
    }
}

/// Why an optimiser could not be created, step or load its state.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    /// A hyperparameter outside its valid range (`expected` states the range).
    case invalidHyperparameter(name: String, value: Double, expected: String)
    /// The same ``Parameter`` object was given twice (index of the second occurrence).
    case duplicateParameter(index: Int)
    /// A gradient whose shape differs from its parameter's.
    case gradientShapeMismatch(parameter: Int, parameterShape: [Int], gradientShape: [Int])
    /// A state dict that does not fit this optimiser (wrong kind, missing or misshaped entry).
    case stateMismatch(String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case let .invalidHyperparameter(name, value, expected):
            return "invalid \(name) \(value): expected \(expected)"
        case let .duplicateParameter(index):
            return "parameter \(index) appears more than once in the optimiser's parameter list"
        case let .gradientShapeMismatch(parameter, parameterShape, gradientShape):
            return "parameter \(parameter) has shape \(parameterShape) but its gradient has shape \(gradientShape)"
        case let .stateMismatch(reason):
            return "optimiser state does not fit: \(reason)"
        }
    }
}

/// Shared argument checks, with PyTorch's ranges.
enum OptimizerValidation {
    static func check(_ name: String, _ value: Double, _ expected: String, _ valid: Bool) throws(OptimizerError) {
        guard valid, !value.isNaN else { throw .invalidHyperparameter(name: name, value: value, expected: expected) }
    }

    static func uniqueParameters(_ parameters: [Parameter]) throws(OptimizerError) {
        var seen = Set<ObjectIdentifier>()
        for (index, parameter) in parameters.enumerated() {
            guard seen.insert(ObjectIdentifier(parameter)).inserted else { throw .duplicateParameter(index: index) }
        }
    }
}
