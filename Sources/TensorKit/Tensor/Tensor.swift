/// A float32 array of any rank, row-major (C order), with optional reverse-mode autograd history.
///
/// `Tensor` has value semantics: assigning or passing it shares its buffer, and the first write
/// through a shared tensor copies the buffer (copy-on-write). Images are `[batch, channels,
/// height, width]` (NCHW), as in PyTorch.
///
/// A tensor takes part in autograd when ``requiresGrad`` is true: operations on it record
/// themselves on a dynamic tape and ``backward()`` computes gradients. Gradients of
/// ``Parameter``s go to ``Parameter/grad``; those of other leaves to ``grad``.
///
/// Thread safety: tensors without autograd history can be sent between threads freely.
/// Recording one autograd graph from several threads at once is not supported.
public struct Tensor: @unchecked Sendable {
    /// The extent of each dimension, outermost first; `[]` for a scalar.
    public private(set) var shape: [Int]
    /// The number of elements, the product of ``shape`` (1 for a scalar).
    public let count: Int
    var storage: TensorStorage
    var node: GradNode?

    // MARK: Creating tensors

    /// A tensor of the given shape holding `scalars` in row-major order.
    /// - Throws: ``TensorError/invalidShape(_:reason:)`` when a dimension is negative,
    ///   ``TensorError/countMismatch(shape:expected:actual:)`` when `scalars.count` is not the
    ///   product of `shape`.
    public init(shape: [Int], scalars: [Float]) throws {
        try Tensor.validate(shape)
        let n = shape.reduce(1, *)
        guard scalars.count == n else {
            throw TensorError.countMismatch(shape: shape, expected: n, actual: scalars.count)
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { storage.pointer.update(from: src.baseAddress!, count: n) }
        }
    }

    /// A tensor of the given shape filled with zeros.
    /// - Precondition: no dimension is negative.
    public init(zeros shape: [Int]) {
        Tensor.checkShape(shape)
        self.init(uninitializedShape: shape)
        storage.pointer.update(repeating: 0, count: count)
    }

    /// A tensor of the given shape with every element equal to `value`.
    /// - Precondition: no dimension is negative.
    public init(repeating value: Float, shape: [Int]) {
        Tensor.checkShape(shape)
        self.init(uninitializedShape: shape)
        storage.pointer.update(repeating: value, count: count)
    }

    /// A rank-0 tensor holding one value.
    public init(_ value: Float) {
        self.init(repeating: value, shape: [])
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Float]) {
        // The shape always matches, so this cannot throw.
        self = try! Tensor(shape: [scalars.count], scalars: scalars)
    }

    /// A tensor whose elements are uninitialised; every kernel that uses this writes them all.
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = TensorStorage(capacity: count)
        self.node = nil
    }

    init(shape: [Int], storage: TensorStorage, node: GradNode? = nil) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = storage
        self.node = node
    }

    static func validate(_ shape: [Int]) throws {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorError.invalidShape(shape, reason: "dimension \(bad) is negative")
        }
    }

    static func checkShape(_ shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "TensorKit: shape \(shape) has a negative dimension")
    }

    // MARK: Reading and writing

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The elements in row-major order (a copy).
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The single element of a tensor with one element.
    /// - Precondition: ``count`` is 1.
    public var scalar: Float {
        precondition(count == 1, "TensorKit: `scalar` needs a tensor of one element, got shape \(shape)")
        return storage.pointer[0]
    }

    /// The element at the given indices, one per dimension (slow: for tests and inspection).
    public subscript(_ indices: Int...) -> Float {
        get { storage.pointer[flatIndex(indices)] }
        set {
            let i = flatIndex(indices)
            makeUnique()
            storage.pointer[i] = newValue
        }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(
            indices.count == shape.count,
            "TensorKit: \(indices.count) indices for a tensor of shape \(shape)")
        var flat = 0
        for (i, (index, extent)) in zip(indices, shape).enumerated() {
            precondition(
                index >= 0 && index < extent,
                "TensorKit: index \(index) out of range 0..<\(extent) in dimension \(i) of shape \(shape)")
            flat = flat * extent + index
        }
        return flat
    }

    /// Calls `body` with the elements in row-major order; the pointer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with writable elements in row-major order, first copying the buffer if
    /// another tensor shares it. Writing does not change any recorded autograd history.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(count: count) }
    }

    /// Whether this tensor's buffer is shared with no other tensor (kernels may then reuse it).
    mutating func isUniquelyOwned() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// Read-only pointer for kernels.
    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    // MARK: Autograd

    /// Whether operations on this tensor are recorded for ``backward()``.
    ///
    /// Setting it to `true` makes this tensor a leaf whose gradient ``grad`` holds after
    /// ``backward()``; setting it to `false` detaches it from any recorded history.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil { node = GradNode(leafFor: nil) }
            } else {
                node = nil
            }
        }
    }

    /// The gradient accumulated into this leaf by ``backward()``, or `nil` before any.
    /// Gradients of ``Parameter`` tensors go to ``Parameter/grad`` instead.
    public var grad: Tensor? {
        node?.parameter?.grad ?? node?.grad
    }

    /// This tensor's values without autograd history (shares the buffer; no copy).
    public var detached: Tensor { Tensor(shape: shape, storage: storage) }

    /// Returns the same tensor marked as a leaf that ``backward()`` computes a gradient for.
    public func requiringGrad() -> Tensor {
        var t = detached
        t.requiresGrad = true
        return t
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and up to the first eight elements.
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
