import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a safetensors file: add tensors (as raw bytes, `Float`s or `Int64`s) and metadata,
/// then ``write(to:)`` it atomically or take its ``serialized()`` bytes.
///
/// The layout matches the reference Rust writer: tensors ordered by element alignment
/// (largest first) then name, a compact JSON header with `__metadata__` first, padded with
/// spaces to a multiple of 8 bytes so every tensor is aligned to its element size.
public struct SafeTensorsWriter: Sendable {
    /// A tensor's contents: stored bytes, or a tensor converted to `dtype` only when the file is
    /// written (so saving a model does not first copy every weight; copy-on-write keeps the
    /// values as they were when added even if the model changes afterwards).
    private enum Payload: Sendable {
        case bytes([UInt8])
        case floats(Tensor)
    }

    private struct Pending: Sendable {
        var dtype: SafeTensorsDType
        var shape: [Int]
        var payload: Payload
        var byteCount: Int
    }

    /// String metadata stored under `__metadata__` (omitted from the file when empty).
    public var metadata: [String: String]
    private var tensors: [String: Pending] = [:]

    /// Creates an empty writer.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// The names added so far.
    public var names: [String] { Array(tensors.keys) }

    /// Adds a tensor from its stored bytes (little-endian).
    /// - Throws: ``SafeTensorsError/invalidTensor(name:reason:)`` when the name is reserved or
    ///   already used, a dimension is negative, or the byte count does not match `dtype` and `shape`.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws(SafeTensorsError) {
        let expected = try checkNew(name, dtype: dtype, shape: shape)
        guard bytes.count == expected else {
            throw .invalidTensor(name: name, reason: "\(dtype.rawValue) with shape \(shape) needs \(expected) bytes, got \(bytes.count)")
        }
        tensors[name] = Pending(dtype: dtype, shape: shape, payload: .bytes(bytes), byteCount: expected)
    }

    /// Adds `tensor` to be stored as the floating-point `dtype` when the file is written.
    mutating func add(_ name: String, retaining tensor: Tensor, as dtype: SafeTensorsDType) throws(SafeTensorsError) {
        guard dtype.isFloatingPoint else {
            throw .invalidTensor(name: name, reason: "cannot store floats as \(dtype.rawValue); use F32, F16, BF16 or F64")
        }
        let expected = try checkNew(name, dtype: dtype, shape: tensor.shape)
        tensors[name] = Pending(dtype: dtype, shape: tensor.shape, payload: .floats(tensor.detached), byteCount: expected)
    }

    /// Checks a new entry's name and shape; returns its byte count.
    private func checkNew(_ name: String, dtype: SafeTensorsDType, shape: [Int]) throws(SafeTensorsError) -> Int {
        guard name != "__metadata__" else { throw .invalidTensor(name: name, reason: "the name is reserved for metadata") }
        guard tensors[name] == nil else { throw .invalidTensor(name: name, reason: "a tensor of this name was already added") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidTensor(name: name, reason: "shape \(shape) has a negative dimension") }
        var expected = dtype.byteCount
        for dimension in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .invalidTensor(name: name, reason: "shape \(shape) is too large") }
            expected = product
        }
        return expected
    }

    /// Calls `body` with the stored bytes of `pending`, in order, in one or more chunks.
    private static func forEachChunk(of pending: Pending, _ body: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> Void)
        throws(SafeTensorsError)
    {
        switch pending.payload {
        case .bytes(let bytes):
            var failure: SafeTensorsError?
            bytes.withUnsafeBytes { raw in
                do throws(SafeTensorsError) { try body(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        case .floats(let tensor):
            var failure: SafeTensorsError?
            tensor.withUnsafeBufferPointer { values in
                guard let base = values.baseAddress else { return }
                #if _endian(little)
                if pending.dtype == .f32 {
                    do throws(SafeTensorsError) { try body(UnsafeRawBufferPointer(values)) } catch { failure = error }
                    return
                }
                #endif
                // Convert through a bounded scratch buffer rather than a copy of the whole tensor.
                let chunk = 1 << 16
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk * pending.dtype.byteCount, alignment: 16)
                defer { scratch.deallocate() }
                var start = 0
                while start < values.count && failure == nil {
                    let n = min(chunk, values.count - start)
                    SafeTensorsConversion.convertFromFloat(base + start, count: n, to: pending.dtype, into: scratch)
                    do throws(SafeTensorsError) {
                        try body(UnsafeRawBufferPointer(start: scratch, count: n * pending.dtype.byteCount))
                    } catch { failure = error }
                    start += n
                }
            }
            if let failure { throw failure }
        }
    }

    /// Adds `Float` values stored as `dtype` (``SafeTensorsDType/f32``, ``SafeTensorsDType/f16``,
    /// ``SafeTensorsDType/bf16`` or ``SafeTensorsDType/f64``); narrower types round to nearest even.
    /// - Throws: ``SafeTensorsError/invalidTensor(name:reason:)`` when `dtype` is not a
    ///   floating-point type or `values.count` is not the product of `shape`, and as ``add(_:dtype:shape:bytes:)``.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float], as dtype: SafeTensorsDType = .f32)
        throws(SafeTensorsError)
    {
        guard dtype.isFloatingPoint else {
            throw .invalidTensor(name: name, reason: "cannot store floats as \(dtype.rawValue); use F32, F16, BF16 or F64")
        }
        try add(name, shape: shape, count: values.count, dtype: dtype) { destination in
            values.withUnsafeBufferPointer { source in
                if let base = source.baseAddress {
                    SafeTensorsConversion.convertFromFloat(base, count: source.count, to: dtype, into: destination)
                }
            }
        }
    }

    /// Adds `Float` values from a buffer (e.g. a tensor's storage), stored as `dtype` as in
    /// ``add(_:shape:floats:as:)``.
    public mutating func add(_ name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>, as dtype: SafeTensorsDType = .f32)
        throws(SafeTensorsError)
    {
        guard dtype.isFloatingPoint else {
            throw .invalidTensor(name: name, reason: "cannot store floats as \(dtype.rawValue); use F32, F16, BF16 or F64")
        }
        try add(name, shape: shape, count: values.count, dtype: dtype) { destination in
            if let base = values.baseAddress {
                SafeTensorsConversion.convertFromFloat(base, count: values.count, to: dtype, into: destination)
            }
        }
    }

    /// Adds exact 64-bit integers as ``SafeTensorsDType/i64`` (PyTorch's `int64`).
    /// - Throws: ``SafeTensorsError/invalidTensor(name:reason:)`` as ``add(_:shape:floats:as:)-(_,_,[Float],_)``.
    public mutating func add(_ name: String, shape: [Int], int64s values: [Int64]) throws(SafeTensorsError) {
        try add(name, shape: shape, count: values.count, dtype: .i64) { destination in
            for (i, value) in values.enumerated() {
                destination.storeBytes(of: value.littleEndian, toByteOffset: i * 8, as: Int64.self)
            }
        }
    }

    private mutating func add(
        _ name: String, shape: [Int], count: Int, dtype: SafeTensorsDType, fill: (UnsafeMutableRawPointer) -> Void
    ) throws(SafeTensorsError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidTensor(name: name, reason: "shape \(shape) has a negative dimension") }
        let (elements, overflow) = shape.reduce((1, false)) { partial, dimension in
            let (product, o) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || o)
        }
        guard !overflow, elements == count else {
            throw .invalidTensor(
                name: name, reason: "shape \(shape) holds \(overflow ? "too many" : String(elements)) elements, got \(count) values")
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: count * dtype.byteCount) { buffer, initialized in
            if let base = buffer.baseAddress { fill(UnsafeMutableRawPointer(base)) }
            initialized = count * dtype.byteCount
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    private var orderedNames: [String] {
        tensors.keys.sorted { a, b in
            let (ra, rb) = (tensors[a]!.dtype.layoutRank, tensors[b]!.dtype.layoutRank)
            return ra != rb ? ra > rb : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        }
    }

    /// The header bytes (without the length prefix), padded with spaces to a multiple of 8.
    private func header(order: [String]) -> [UInt8] {
        var members: [(key: String, value: SafeTensorsJSON)] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { (key: $0, value: SafeTensorsJSON.string(metadata[$0]!)) }
            members.append((key: "__metadata__", value: .object(pairs)))
        }
        var offset = 0
        for name in order {
            let tensor = tensors[name]!
            members.append(
                (
                    key: name,
                    value: .object([
                        (key: "dtype", value: .string(tensor.dtype.rawValue)),
                        (key: "shape", value: .array(tensor.shape.map { .integer($0) })),
                        (key: "data_offsets", value: .array([.integer(offset), .integer(offset + tensor.byteCount)])),
                    ])
                ))
            offset += tensor.byteCount
        }
        var bytes: [UInt8] = []
        SafeTensorsJSON.object(members).serialized(into: &bytes)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return bytes
    }

    /// The complete file contents.
    public func serialized() -> [UInt8] {
        let order = orderedNames
        let header = header(order: order)
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + tensors.values.reduce(0) { $0 + $1.byteCount })
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in order {
            // Appending cannot fail; the typed-throws signature is shared with writing.
            try? SafeTensorsWriter.forEachChunk(of: tensors[name]!) { chunk in out.append(contentsOf: chunk) }
        }
        return out
    }

    /// Writes the file atomically: into a temporary file in the same directory, flushed to disk
    /// (`fsync`), then renamed over `url`, so readers see either the old file or the complete
    /// new one, never a partial write, even if the process dies midway.
    /// - Throws: ``SafeTensorsError/io(path:operation:message:)`` naming the failed call.
    public func write(to url: URL) throws(SafeTensorsError) {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SafeTensorsStorage.ioError(temporary, "create") }
        var closed = false
        do throws(SafeTensorsError) {
            let order = orderedNames
            let header = header(order: order)
            var prefix = [UInt8](repeating: 0, count: 8)
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix = Array($0) }
            try SafeTensorsWriter.writeAll(fd, prefix + header, path: temporary)
            for name in order {
                try SafeTensorsWriter.forEachChunk(of: tensors[name]!) { chunk throws(SafeTensorsError) in
                    try SafeTensorsWriter.writeAll(fd, chunk, path: temporary)
                }
            }
            guard fsync(fd) == 0 else { throw SafeTensorsStorage.ioError(temporary, "fsync") }
            closed = true
            guard close(fd) == 0 else { throw SafeTensorsStorage.ioError(temporary, "close") }
            guard rename(temporary, path) == 0 else { throw SafeTensorsStorage.ioError(path, "rename \(temporary) to") }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; failure here leaves a complete file, so it is not an error.
        let directoryFD = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SafeTensorsError) {
        // `withUnsafeBytes` rethrows untyped errors, so carry the typed one out by hand.
        var failure: SafeTensorsError?
        bytes.withUnsafeBytes { raw in
            do throws(SafeTensorsError) { try writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) {
        var offset = 0
        while offset < raw.count {
            let written = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsStorage.ioError(path, "write")
            }
            offset += written
        }
    }
}

/// The C library's `write(2)`, named apart from ``SafeTensorsWriter/write(to:)``, which would
/// shadow it inside the type.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
