/// A neural-network component with named parameters, buffers and sub-modules, in the manner of
/// PyTorch's `nn.Module`.
///
/// Names join with dots into paths such as `layer1.0.bn1.running_mean`; for the same module
/// tree they are exactly PyTorch's `state_dict()` keys. A conforming class lists only its *own*
/// parameters, buffers and direct children; everything else (recursion, state dicts,
/// train/eval) comes from the extension.
public protocol Module: AnyObject {
    /// Whether the module behaves as in training (batch statistics, dropout) or evaluation.
    /// Set it for a whole tree with ``Module/train(_:)`` or ``Module/eval()``.
    var isTraining: Bool { get set }
    /// Direct sub-modules with their names, in registration order.
    var namedChildren: [(name: String, module: any Module)] { get }
    /// This module's own parameters (not its children's), in registration order.
    var namedOwnParameters: [(name: String, parameter: Parameter)] { get }
    /// This module's own buffers (not its children's), in registration order.
    var namedOwnBuffers: [(name: String, buffer: Buffer)] { get }
}

/// A module that maps one tensor to one tensor, so it can be called and chained in a
/// ``Sequential``.
public protocol Layer: Module {
    /// Applies the layer to `input`.
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// One entry of a module's state: its dotted path, value and checkpoint type.
public struct StateEntry {
    /// The dotted path, e.g. `layer1.0.bn1.running_mean`.
    public var name: String
    /// The current value.
    public var value: Tensor
    /// The element type in PyTorch checkpoints.
    public var dtype: StateDType
    /// Whether the entry is a trainable parameter (otherwise a buffer).
    public var isParameter: Bool
}

extension Module {
    public var namedChildren: [(name: String, module: any Module)] { [] }
    public var namedOwnParameters: [(name: String, parameter: Parameter)] { [] }
    public var namedOwnBuffers: [(name: String, buffer: Buffer)] { [] }

    /// Every parameter of the tree with its dotted path, depth first (PyTorch's order).
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var out: [(name: String, parameter: Parameter)] = []
        visit(prefix: "") { prefix, module in
            for (n, p) in module.namedOwnParameters { out.append((prefix + n, p)) }
        }
        return out
    }

    /// Every parameter of the tree, in the order of ``namedParameters()``.
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Every buffer of the tree with its dotted path.
    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        var out: [(name: String, buffer: Buffer)] = []
        visit(prefix: "") { prefix, module in
            for (n, b) in module.namedOwnBuffers { out.append((prefix + n, b)) }
        }
        return out
    }

    /// Every module of the tree (this one first) with its dotted path (`""` for this one).
    public func namedModules() -> [(name: String, module: any Module)] {
        var out: [(name: String, module: any Module)] = []
        visit(prefix: "") { prefix, module in
            out.append((prefix.isEmpty ? "" : String(prefix.dropLast()), module))
        }
        return out
    }

    /// Parameters and buffers in PyTorch's `state_dict()` order: for each module, its own
    /// parameters, then its own buffers, then its children.
    public func stateEntries() -> [StateEntry] {
        var out: [StateEntry] = []
        visit(prefix: "") { prefix, module in
            for (n, p) in module.namedOwnParameters {
                out.append(StateEntry(name: prefix + n, value: p.value, dtype: .float32, isParameter: true))
            }
            for (n, b) in module.namedOwnBuffers {
                out.append(StateEntry(name: prefix + n, value: b.value, dtype: b.dtype, isParameter: false))
            }
        }
        return out
    }

    /// The state as a dictionary from dotted path to value (parameters and buffers).
    public func stateDict() -> [String: Tensor] {
        Dictionary(stateEntries().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Replaces parameter and buffer values with those in `state`.
    ///
    /// - Parameters:
    ///   - state: tensors by PyTorch `state_dict` key.
    ///   - strict: when `true` (the default), `state` must have exactly the module's
    ///     keys; when `false`, keys absent on either side are ignored.
    /// - Throws: ``TensorError/stateKeysMismatch(missing:unexpected:)`` naming every missing and
    ///   unexpected key (strict mode), ``TensorError/stateShapeMismatch(key:expected:actual:)``
    ///   naming the key and both shapes. Nothing is changed when it throws.
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        var params: [String: Parameter] = [:]
        for (n, p) in namedParameters() { params[n] = p }
        var buffers: [String: Buffer] = [:]
        for (n, b) in namedBuffers() { buffers[n] = b }
        let known = Set(params.keys).union(buffers.keys)
        if strict {
            let missing = known.subtracting(state.keys).sorted()
            let unexpected = Set(state.keys).subtracting(known).sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                throw TensorError.stateKeysMismatch(missing: missing, unexpected: unexpected)
            }
        }
        for (key, value) in state.sorted(by: { $0.key < $1.key }) {
            let expected = params[key]?.shape ?? buffers[key]?.value.shape
            guard let expected else { continue }
            // A scalar buffer (num_batches_tracked) may arrive as shape [] or [1].
            let compatible =
                expected == value.shape || (expected.reduce(1, *) == 1 && value.count == 1 && expected.count <= 1 && value.rank <= 1)
            guard compatible else {
                throw TensorError.stateShapeMismatch(key: key, expected: expected, actual: value.shape)
            }
        }
        for (key, value) in state {
            if let p = params[key] {
                p.value = Tensor(shape: p.shape, storage: value.storage)
            } else if let b = buffers[key] {
                b.value = Tensor(shape: b.value.shape, storage: value.storage)
            }
        }
    }

    /// This module and every descendant, depth first (PyTorch's `modules()`), e.g. to find
    /// every ``BatchNorm2d`` of a model.
    public func modules() -> [any Module] {
        var out: [any Module] = []
        visit(prefix: "") { _, module in out.append(module) }
        return out
    }

    /// Sets training mode on this module and all its descendants.
    public func train(_ mode: Bool = true) {
        visit(prefix: "") { _, module in module.isTraining = mode }
    }

    /// Sets evaluation mode on this module and all its descendants (same as `train(false)`).
    public func eval() { train(false) }

    /// Clears the gradient of every parameter of the tree.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// The total number of scalars in the tree's parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Calls `body` for this module and every descendant, depth first, with the path prefix
    /// (`""` or `"a.b."`) under which its own entries are named.
    func visit(prefix: String, _ body: (String, any Module) -> Void) {
        body(prefix, self)
        for (name, child) in namedChildren {
            child.visit(prefix: prefix + name + ".", body)
        }
    }
}
