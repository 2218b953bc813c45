import Foundation

extension SafeTensorsFile {
    /// The tensor `name` as a float32 ``Tensor`` of the stored shape, converted straight from the
    /// mapped file into the tensor's storage (one copy). F16, BF16 and integers up to 2^24 convert
    /// exactly; use ``int64s(_:)`` for exact 64-bit integers.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``.
    public func tensor(_ name: String) throws(SafeTensorsError) -> Tensor {
        let entry = try entry(name)
        var tensor = Tensor(uninitializedShape: entry.shape)
        try copyFloats(name, into: UnsafeMutableBufferPointer(start: tensor.mutableElements(), count: tensor.count))
        return tensor
    }

    /// Every tensor of the file, by name, converted as ``tensor(_:)``.
    public func tensors() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for entry in entries {
            // Names come from `entries`, so the lookup cannot fail.
            result[entry.name] = try? tensor(entry.name)
        }
        return result
    }
}

extension SafeTensorsWriter {
    /// Adds a tensor's values stored as `dtype`: a floating-point type (narrower ones round to
    /// nearest even) or ``SafeTensorsDType/i64`` for integral values such as
    /// `num_batches_tracked`.
    /// - Throws: ``SafeTensorsError/invalidTensor(name:reason:)`` for other dtypes, non-integral
    ///   or out-of-range values stored as I64, or a name already added.
    public mutating func add(_ name: String, tensor: Tensor, as dtype: SafeTensorsDType = .f32) throws(SafeTensorsError) {
        if dtype == .i64 {
            var integers: [Int64] = []
            integers.reserveCapacity(tensor.count)
            for (index, value) in tensor.scalars.enumerated() {
                guard let integer = Int64(exactly: value) else {
                    throw .invalidTensor(name: name, reason: "element \(index) is \(value), which is not an integer to store as I64")
                }
                integers.append(integer)
            }
            try add(name, shape: tensor.shape, int64s: integers)
            return
        }
        try add(name, retaining: tensor, as: dtype)
    }
}

extension Module {
    /// Saves the module's parameters and buffers to a safetensors file, atomically, under their
    /// dotted state-dict names, each with its PyTorch type (F32, or I64 for counters such as
    /// `num_batches_tracked`), so `safetensors.torch.load_file` gives a PyTorch state dict.
    /// - Throws: ``SafeTensorsError`` from the writer.
    public func saveSafeTensors(to url: URL, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        var writer = SafeTensorsWriter(metadata: metadata)
        for entry in stateEntries() {
            try writer.add(entry.name, tensor: entry.value, as: entry.dtype == .int64 ? .i64 : .f32)
        }
        try writer.write(to: url)
    }

    /// Loads parameters and buffers from a safetensors file such as PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), path)` writes (any stored dtype is
    /// converted to float32).
    /// - Parameters:
    ///   - url: the `.safetensors` file.
    ///   - strict: as in ``loadStateDict(_:strict:)``.
    /// - Throws: ``SafeTensorsError`` when the file cannot be read, ``TensorError`` when its keys
    ///   or shapes do not fit the module.
    public func loadSafeTensors(from url: URL, strict: Bool = true) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        try loadStateDict(file.tensors(), strict: strict)
    }
}

extension Tensor {
    /// A writable pointer to the elements after making the buffer unique; valid until the tensor
    /// is next reassigned or copied-on-write. For in-place kernels of this module.
    mutating func mutableElements() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return pointer
    }
}
