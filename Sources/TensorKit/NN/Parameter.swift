/// A trainable tensor of a module: its current ``value`` and the ``grad`` that
/// `backward()` accumulates into it.
///
/// Optimisers update ``value`` in place from ``grad`` (inside `withNoGrad { … }`) and clear
/// ``grad`` with ``zeroGrad()``. Layers read the value through ``tensor``, which attaches it to
/// the autograd graph as a leaf. `Parameter` is a class so that a module and its optimiser
/// refer to the same storage.
public final class Parameter {
    /// The parameter's current values.
    public var value: Tensor {
        get { storedValue }
        set { storedValue = newValue; version &+= 1 }
        // In place, so that optimisers writing through `value` do not copy a shared buffer
        // (a `didSet` observer would make every in-place write copy the whole tensor).
        _modify { version &+= 1; yield &storedValue }
    }
    private var storedValue: Tensor
    /// Counts changes of ``value`` (assignments and in-place writes through it, such as an
    /// optimiser step): caches derived from the value, such as folded inference weights,
    /// compare it to know when to rebuild.
    public private(set) var version = 0
    /// The gradient accumulated by `backward()` since the last ``zeroGrad()``, or `nil`.
    public var grad: Tensor?
    /// Whether `backward()` computes a gradient for this parameter (set `false` to freeze it).
    public var requiresGrad: Bool

    /// A parameter holding `value`.
    public init(_ value: Tensor, requiresGrad: Bool = true) {
        self.storedValue = value.detached
        self.requiresGrad = requiresGrad
    }

    /// The shape of ``value``.
    public var shape: [Int] { value.shape }

    /// ``value`` as an autograd leaf whose gradient goes to ``grad`` (no copy). Without
    /// ``requiresGrad`` or inside `withNoGrad { … }` it is the plain value.
    public var tensor: Tensor {
        guard requiresGrad, GradMode.isEnabled else { return value.detached }
        return Tensor(shape: value.shape, storage: value.storage, node: GradNode(leafFor: self))
    }

    /// Drops the accumulated gradient.
    public func zeroGrad() { grad = nil }
}

/// The element type a state-dict entry has in PyTorch checkpoints.
///
/// TensorKit holds every value as float32; integer entries such as BatchNorm's
/// `num_batches_tracked` (int64 in PyTorch) are exact as long as they stay below 2^24.
/// Checkpoint writers use this to store such entries with PyTorch's type.
public enum StateDType: String, Sendable, CaseIterable {
    /// 32-bit IEEE float.
    case float32
    /// 64-bit signed integer (held as an integral float32).
    case int64
}

/// A non-trainable tensor of a module that belongs to its state (BatchNorm's running
/// statistics and batch counter).
public final class Buffer {
    /// The buffer's current values.
    public var value: Tensor {
        get { storedValue }
        set { storedValue = newValue; version &+= 1 }
        _modify { version &+= 1; yield &storedValue }  // in place, as `Parameter.value`
    }
    private var storedValue: Tensor
    /// Counts changes of ``value`` (assignments and in-place writes through it, such as a
    /// batch norm's running-statistics update), as ``Parameter/version`` does.
    public private(set) var version = 0
    /// The type this buffer has in PyTorch checkpoints.
    public let dtype: StateDType

    /// A buffer holding `value`, stored in checkpoints as `dtype`.
    public init(_ value: Tensor, dtype: StateDType = .float32) {
        self.storedValue = value.detached
        self.dtype = dtype
    }
}
