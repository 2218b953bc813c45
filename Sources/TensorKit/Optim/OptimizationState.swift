import Foundation

/// The saved state of an optimiser or LR scheduler: tensors (per-parameter moments, momentum
/// buffers, step counts) and scalar hyperparameters, tagged with the kind that wrote them.
///
/// Tensor keys follow PyTorch's optimiser `state_dict()` flattened with dots:
/// `state.<parameter index>.exp_avg`, `state.0.step`, `state.3.momentum_buffer`. It can be
/// stored alone (``write(to:)``) or beside a model's weights in one safetensors checkpoint
/// (``add(to:prefix:)``), with the scalars kept in the file's metadata.
public struct OptimizationState: Sendable {
    /// What wrote the state, e.g. `"AdamW"` or `"OneCycleLR"`.
    public var kind: String
    /// Named state tensors.
    public var tensors: [String: Tensor]
    /// Named scalar values (hyperparameters, step counters).
    public var scalars: [String: Double]

    /// A state with the given contents.
    public init(kind: String, tensors: [String: Tensor] = [:], scalars: [String: Double] = [:]) {
        self.kind = kind
        self.tensors = tensors
        self.scalars = scalars
    }

    /// Adds the state to `writer`: tensors as F32 named `prefix + key`, the kind and the scalars
    /// as metadata `prefix + "kind"` and `prefix + "scalar." + key` (shortest decimal that reads
    /// back to the same `Double`).
    /// - Throws: ``SafeTensorsError/invalidTensor(name:reason:)`` when a name is already in `writer`.
    public func add(to writer: inout SafeTensorsWriter, prefix: String = "") throws(SafeTensorsError) {
        writer.metadata[prefix + "kind"] = kind
        for (key, value) in scalars { writer.metadata[prefix + "scalar." + key] = "\(value)" }
        for (key, tensor) in tensors { try writer.add(prefix + key, tensor: tensor) }
    }

    /// Reads a state stored by ``add(to:prefix:)`` with the same `prefix`.
    /// - Throws: ``SafeTensorsError/invalidMetadata(reason:)`` when the kind is missing or a
    ///   scalar is not a number.
    public init(from file: SafeTensorsFile, prefix: String = "") throws(SafeTensorsError) {
        guard let kind = file.metadata[prefix + "kind"] else {
            throw .invalidMetadata(
                reason: "no \"\(prefix)kind\" entry: the file holds no optimiser or scheduler state under prefix \"\(prefix)\"")
        }
        var scalars: [String: Double] = [:]
        let scalarPrefix = prefix + "scalar."
        for (key, text) in file.metadata where key.hasPrefix(scalarPrefix) {
            guard let value = Double(text) else {
                throw .invalidMetadata(reason: "\"\(key)\" is \"\(text)\", expected a number")
            }
            scalars[String(key.dropFirst(scalarPrefix.count))] = value
        }
        var tensors: [String: Tensor] = [:]
        for entry in file.entries where entry.name.hasPrefix(prefix) {
            tensors[String(entry.name.dropFirst(prefix.count))] = try file.tensor(entry.name)
        }
        self.init(kind: kind, tensors: tensors, scalars: scalars)
    }

    /// Writes the state alone to a safetensors file, atomically.
    /// - Throws: ``SafeTensorsError`` from the writer.
    public func write(to url: URL) throws(SafeTensorsError) {
        var writer = SafeTensorsWriter()
        try add(to: &writer)
        try writer.write(to: url)
    }

    /// Reads a state written by ``write(to:)``.
    /// - Throws: ``SafeTensorsError`` when the file cannot be read or holds no state.
    public init(contentsOf url: URL) throws(SafeTensorsError) {
        try self.init(from: SafeTensorsFile(contentsOf: url))
    }

    // MARK: Helpers for loadStateDict implementations

    func requireKind(_ expected: String) throws(OptimizerError) {
        guard kind == expected else { throw .stateMismatch("state was saved by \(kind), this optimiser is \(expected)") }
    }

    func scalar(_ key: String) throws(OptimizerError) -> Double {
        guard let value = scalars[key] else { throw .stateMismatch("missing scalar \"\(key)\"") }
        return value
    }

    /// The tensor `key`, which must have `shape`; `nil` when absent.
    func tensor(_ key: String, shape: [Int]) throws(OptimizerError) -> Tensor? {
        guard let tensor = tensors[key] else { return nil }
        guard tensor.shape == shape else {
            throw .stateMismatch("\"\(key)\" has shape \(tensor.shape), the parameter has shape \(shape)")
        }
        return tensor
    }

    /// Throws when a tensor key names a parameter index outside `0..<count`.
    func checkIndices(count: Int) throws(OptimizerError) {
        for key in tensors.keys {
            let parts = key.split(separator: ".")
            guard parts.count == 3, parts[0] == "state", let index = Int(parts[1]) else {
                throw .stateMismatch("unexpected tensor \"\(key)\" (expected state.<index>.<name>)")
            }
            guard index >= 0 && index < count else {
                throw .stateMismatch("\"\(key)\" refers to parameter \(index), the optimiser has \(count)")
            }
        }
    }
}
