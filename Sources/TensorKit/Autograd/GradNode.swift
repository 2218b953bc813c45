import Dispatch

/// One recorded operation (or a leaf) of the dynamic autograd tape.
///
/// A node keeps its inputs' nodes and a closure that maps the gradient of its output to the
/// gradients of its inputs. Closures capture only *detached* tensors, never their own output's
/// node, so the graph holds no reference cycles; `backward()` also clears every closure it ran,
/// which frees the saved activations as soon as they are used.
final class GradNode {
    /// Operation name, for diagnostics.
    let op: String
    /// Nodes of the inputs, `nil` for inputs that need no gradient.
    var inputs: [GradNode?]
    /// Maps the output gradient to one gradient per input (`nil` where not needed).
    var backwardFn: ((Tensor) -> [Tensor?])?
    /// Gradient accumulated so far (for leaves: the result; for inner nodes: transient).
    var grad: Tensor?
    /// The parameter this leaf stands for; its ``Parameter/grad`` receives the gradient.
    let parameter: Parameter?
    /// Set once a backward pass has run (or skipped) this node and dropped its closure and the
    /// tensors it saved; another backward pass through it would silently lose gradients.
    var isReleased = false

    var isLeaf: Bool { backwardFn == nil && inputs.isEmpty }

    init(leafFor parameter: Parameter?) {
        op = "leaf"
        inputs = []
        self.parameter = parameter
    }

    init(op: String, inputs: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backwardFn = backward
        self.parameter = nil
    }

    /// Drops the closure (and with it the saved tensors) and the links to the inputs.
    func release() {
        backwardFn = nil
        inputs = []
        grad = nil
        isReleased = true
    }

    func accumulate(_ g: Tensor) {
        if let parameter {
            Tensor.accumulate(&parameter.grad, g.detached)
        } else {
            Tensor.accumulate(&grad, g.detached)
        }
    }
}

extension Tensor {
    /// Attaches autograd history to `output` when grad mode is on and any input requires a
    /// gradient. `backward` receives the output gradient and returns one gradient per input,
    /// in the order of `inputs`; it may return `nil` for inputs whose `requiresGrad` is false.
    static func record(
        _ op: String, _ output: Tensor, inputs: [Tensor],
        backward: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        if OpProfiler.isEnabled { OpProfiler.forward(op) }
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return output }
        var out = output
        out.node = GradNode(op: op, inputs: inputs.map(\.node), backward: backward)
        return out
    }

    /// `total += g`, allocating `total` on first use; adds in place when the buffer is unshared.
    static func accumulate(_ total: inout Tensor?, _ g: Tensor) {
        guard var t = total else { total = g; return }
        precondition(
            t.shape == g.shape,
            "TensorKit: gradient of shape \(g.shape) accumulated into one of shape \(t.shape)")
        total = nil
        t.makeUnique()
        Kernels.addInPlace(t.pointer, g.pointer, count: t.count)
        total = t
    }

    /// Computes the gradient of this scalar with respect to every leaf it depends on and
    /// accumulates it into ``Parameter/grad`` or the leaf's ``grad``. Frees the graph afterwards.
    /// - Precondition: the tensor has one element, ``requiresGrad`` is true, and no earlier
    ///   `backward()` has freed part of its graph (see ``backward(gradient:)``).
    public func backward() {
        precondition(count == 1, "TensorKit: backward() without a gradient needs one element, got shape \(shape)")
        backward(gradient: Tensor(repeating: 1, shape: shape))
    }

    /// Back-propagates `gradient` (the gradient of some scalar with respect to this tensor),
    /// accumulating into leaves as ``backward()`` does.
    ///
    /// Each operation's saved tensors are freed as soon as its own backward step has run, and
    /// each intermediate gradient as soon as it has been passed on, so peak memory falls
    /// during the pass. A graph can therefore be back-propagated once: a second `backward()`
    /// through any part of it stops with ``AutogradError/graphAlreadyFreed(op:)`` as its
    /// message instead of returning partial gradients (run the forward pass again).
    /// - Precondition: `gradient.shape == shape`, ``requiresGrad`` is true, the graph is not freed.
    public func backward(gradient: Tensor) {
        backward(gradient: gradient, onGradientReady: nil)
    }

    /// ``backward(gradient:)`` that also reports each parameter as soon as its gradient is final,
    /// while the pass goes on: what a data-parallel trainer needs to start summing gradients
    /// across processes before the pass is over (the gradients of the last layers are final
    /// first). `onGradientReady` runs on the calling thread, once per read of a parameter
    /// (``Parameter/tensor``) that the graph reaches, after the last contribution of that read
    /// to ``Parameter/grad``; for a parameter read once per forward pass, as every layer here
    /// reads its own, that is when its gradient is final.
    /// - Precondition: as ``backward(gradient:)``.
    public func backward(gradient: Tensor, onGradientReady: ((Parameter) -> Void)?) {
        do {
            try runBackward(gradient: gradient, onGradientReady: onGradientReady)
        } catch {
            preconditionFailure("TensorKit: \(error)")
        }
    }

    /// ``backward(gradient:)`` that reports a graph freed by an earlier pass as an error.
    /// Nothing is accumulated when it throws.
    func runBackward(gradient: Tensor, onGradientReady: ((Parameter) -> Void)? = nil) throws(AutogradError) {
        precondition(
            gradient.shape == shape,
            "TensorKit: backward gradient of shape \(gradient.shape) for a tensor of shape \(shape)")
        guard let root = node else {
            preconditionFailure("TensorKit: backward() on a tensor that does not require a gradient")
        }
        let order = Tensor.topologicalOrder(from: root)
        if let freed = order.first(where: \.isReleased) { throw .graphAlreadyFreed(op: freed.op) }
        root.accumulate(gradient.detached)
        for node in order.reversed() {
            guard let fn = node.backwardFn else {
                // A leaf comes after every node that uses it in this order, so its gradient is final.
                if let onGradientReady, let parameter = node.parameter { onGradientReady(parameter) }
                continue
            }
            guard let g = node.grad else { node.release(); continue }
            node.grad = nil
            let profiling = OpProfiler.isEnabled
            let t0 = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            let inputs = node.inputs
            // Free the saved tensors before passing gradients on, so that they and the output
            // gradient are gone before the inputs' backward steps allocate theirs.
            let grads = fn(g)
            node.release()
            for (input, gi) in zip(inputs, grads) {
                if let input, let gi { input.accumulate(gi) }
            }
            if profiling { OpProfiler.backward(node.op, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0) }
        }
    }

    /// Post-order of the graph below `root` (inputs before the nodes that use them).
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let child = node.inputs[next], visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
    }
}

/// Misuse of the autograd tape.
public enum AutogradError: Error, Equatable, CustomStringConvertible {
    /// `backward()` reached an operation (`op`) whose saved tensors an earlier `backward()`
    /// already freed.
    case graphAlreadyFreed(op: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .graphAlreadyFreed(let op):
            return "backward() through a graph that an earlier backward() already freed (at operation '\(op)'): "
                + "its saved tensors are gone; run the forward pass again to get a new graph"
        }
    }
}
