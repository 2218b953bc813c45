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
        precondition(t.shape == g.shape,
                     "TensorKit: gradient of shape \(g.shape) accumulated into one of shape \(t.shape)")
        total = nil
        t.makeUnique()
        Kernels.addInPlace(t.pointer, g.pointer, count: t.count)
        total = t
    }

    /// Computes the gradient of this scalar with respect to every leaf it depends on and
    /// accumulates it into ``Parameter/grad`` or the leaf's ``grad``. Frees the graph afterwards.
    /// - Precondition: the tensor has one element and ``requiresGrad`` is true.
    public func backward() {
        precondition(count == 1, "TensorKit: backward() without a gradient needs one element, got shape \(shape)")
        backward(gradient: Tensor(repeating: 1, shape: shape))
    }

    /// Back-propagates `gradient` (the gradient of some scalar with respect to this tensor),
    /// accumulating into leaves as ``backward()`` does. Frees the graph afterwards.
    /// - Precondition: `gradient.shape == shape` and ``requiresGrad`` is true.
    public func backward(gradient: Tensor) {
        precondition(gradient.shape == shape,
                     "TensorKit: backward gradient of shape \(gradient.shape) for a tensor of shape \(shape)")
        guard let root = node else {
            preconditionFailure("TensorKit: backward() on a tensor that does not require a gradient")
        }
        let order = Tensor.topologicalOrder(from: root)
        root.accumulate(gradient.detached)
        for node in order.reversed() {
            guard let fn = node.backwardFn else { continue }
            guard let g = node.grad else { node.backwardFn = nil; node.inputs = []; continue }
            node.grad = nil
            let profiling = OpProfiler.isEnabled
            let t0 = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            let grads = fn(g)
            node.backwardFn = nil
            let inputs = node.inputs
            node.inputs = []
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
