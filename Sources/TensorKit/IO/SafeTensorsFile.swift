import Foundation

/// A safetensors file opened for reading: its header parsed and validated, its data mapped
/// into memory rather than read, so only the tensors you access are paged in.
///
/// The format: an 8-byte little-endian header length `N`, `N` bytes of a UTF-8 JSON object
/// mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets
/// relative to the data section that follows the header) plus an optional `__metadata__`
/// map of strings, then the tensors' bytes, contiguous and little-endian. Opening validates
/// everything the reference implementation validates, so a file that opens can be read
/// without further errors except asking for a missing name or an unsuitable dtype.
///
/// A mapped file must not be truncated by another process while it is open (reading the lost
/// pages would fault); replacing it through ``SafeTensorsWriter/write(to:)``, which renames a
/// new file into place, is safe.
public final class SafeTensorsFile: Sendable {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        /// The tensor's name, e.g. `layer1.0.bn1.running_mean`.
        public let name: String
        /// The stored element type.
        public let dtype: SafeTensorsDType
        /// The dimensions, outermost first; `[]` for a scalar.
        public let shape: [Int]
        /// The byte range inside the data section.
        public let dataOffsets: Range<Int>
        /// The number of elements (the product of `shape`, 1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The largest header the reference implementation accepts, in bytes.
    public static let maximumHeaderLength = 100_000_000

    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// The tensors in the order of their data in the file.
    public let entries: [Entry]

    private let index: [String: Int]
    private let storage: SafeTensorsStorage
    private let dataStart: Int

    /// Opens and validates the file at `url` by mapping it into memory.
    /// - Throws: ``SafeTensorsError`` naming the problem: not a safetensors file, header too
    ///   large or not JSON, bad entries, unknown dtypes, overlapping, non-contiguous or
    ///   out-of-range offsets, a truncated file, or an I/O failure.
    public convenience init(contentsOf url: URL) throws(SafeTensorsError) {
        let storage = try SafeTensorsStorage(mapping: url.path)
        try self.init(storage: storage, source: url.path)
    }

    /// Parses and validates safetensors bytes held in memory (they are copied once).
    /// - Parameters:
    ///   - bytes: a whole safetensors file: header length, JSON header, data.
    ///   - source: a name for the input used in error messages.
    /// - Throws: ``SafeTensorsError`` as ``init(contentsOf:)``.
    public convenience init(bytes: [UInt8], source: String = "<memory>") throws(SafeTensorsError) {
        guard bytes.count >= 8 else {
            throw .notSafeTensors(source: source, reason: "the input is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let storage = bytes.withUnsafeBytes { SafeTensorsStorage(copying: $0) }
        try self.init(storage: storage, source: source)
    }

    private init(storage: SafeTensorsStorage, source: String) throws(SafeTensorsError) {
        self.storage = storage
        let rawLength = UInt64(littleEndian: storage.base.loadUnaligned(as: UInt64.self))
        guard rawLength <= UInt64(SafeTensorsFile.maximumHeaderLength) else {
            throw .headerTooLarge(source: source, length: rawLength, limit: SafeTensorsFile.maximumHeaderLength)
        }
        let headerLength = Int(rawLength)
        guard 8 + headerLength <= storage.count else {
            throw .truncatedHeader(source: source, headerLength: rawLength, fileSize: storage.count)
        }
        let header = UnsafeRawBufferPointer(start: storage.base + 8, count: headerLength)
        guard header.first == UInt8(ascii: "{") else {
            throw .notSafeTensors(source: source, reason: "the header does not begin with '{'")
        }
        let json: SafeTensorsJSON
        do {
            json = try SafeTensorsJSON.parse(header)
        } catch {
            throw .invalidHeaderJSON(source: source, offset: error.offset, reason: error.message)
        }
        guard case .object(let members) = json else {
            throw .invalidHeaderJSON(source: source, offset: 0, reason: "the header is not a JSON object")
        }
        dataStart = 8 + headerLength
        let dataLength = storage.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(members.count)
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw .invalidMetadata(reason: "expected an object of strings, found \(value.kind)")
                }
                for (key, item) in pairs {
                    guard case .string(let string) = item else {
                        throw .invalidMetadata(reason: "value of \"\(key)\" is \(item.kind), expected a string")
                    }
                    metadata[key] = string
                }
            } else {
                entries.append(try SafeTensorsFile.entry(name: name, json: value))
            }
        }

        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var end = 0
        var previous: String?
        for entry in entries {
            if entry.dataOffsets.upperBound > dataLength {
                throw .truncatedData(tensor: entry.name, end: entry.dataOffsets.upperBound, dataLength: dataLength)
            }
            if entry.dataOffsets.lowerBound < end, let previous {
                throw .overlappingOffsets(tensor: entry.name, other: previous)
            }
            if entry.dataOffsets.lowerBound > end {
                throw .gapInOffsets(tensor: entry.name, expectedBegin: end, actualBegin: entry.dataOffsets.lowerBound)
            }
            end = entry.dataOffsets.upperBound
            previous = entry.name
        }
        guard end == dataLength else { throw .trailingBytes(count: dataLength - end) }

        self.metadata = metadata
        self.entries = entries
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() { index[entry.name] = position }
        self.index = index
    }

    private static func entry(name: String, json: SafeTensorsJSON) throws(SafeTensorsError) -> Entry {
        guard case .object(let fields) = json else {
            throw .invalidEntry(tensor: name, reason: "expected an object, found \(json.kind)")
        }
        func field(_ key: String) throws(SafeTensorsError) -> SafeTensorsJSON {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw .invalidEntry(tensor: name, reason: "missing \"\(key)\"")
            }
            return value
        }
        func integers(_ key: String) throws(SafeTensorsError) -> [Int] {
            guard case .array(let items) = try field(key) else {
                throw .invalidEntry(tensor: name, reason: "\"\(key)\" is not an array")
            }
            var result: [Int] = []
            for item in items {
                guard case .integer(let value) = item, value >= 0 else {
                    throw .invalidEntry(tensor: name, reason: "\"\(key)\" must hold non-negative integers")
                }
                result.append(value)
            }
            return result
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw .invalidEntry(tensor: name, reason: "\"dtype\" is not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(tensor: name, dtype: dtypeName)
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else {
            throw .invalidEntry(tensor: name, reason: "\"data_offsets\" must be [begin, end], found \(offsets.count) numbers")
        }
        guard offsets[0] <= offsets[1] else {
            throw .invalidEntry(tensor: name, reason: "data_offsets [\(offsets[0]), \(offsets[1])] end before they begin")
        }
        var bytes = dtype.byteCount
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .invalidEntry(tensor: name, reason: "shape \(shape) is too large") }
            bytes = product
        }
        guard bytes == offsets[1] - offsets[0] else {
            throw .byteCountMismatch(tensor: name, dtype: dtype, shape: shape, expected: bytes, actual: offsets[1] - offsets[0])
        }
        return Entry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// The tensor names, in the order of their data in the file.
    public var names: [String] { entries.map(\.name) }

    /// The entry named `name`, or `nil`.
    public subscript(name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The entry named `name`.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``.
    public func entry(_ name: String) throws(SafeTensorsError) -> Entry {
        guard let position = index[name] else { throw .tensorNotFound(name: name, available: names) }
        return entries[position]
    }

    /// Calls `body` with the tensor's stored bytes (little-endian, any alignment), without copying.
    /// The pointer is valid only inside `body`.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``, or what `body` throws.
    public func withUnsafeBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let entry = try entry(name)
        return try withExtendedLifetime(storage) {
            try body(
                UnsafeRawBufferPointer(
                    start: storage.base + dataStart + entry.dataOffsets.lowerBound,
                    count: entry.dataOffsets.count))
        }
    }

    /// Converts the tensor's elements to `Float` into `destination`, which must hold exactly
    /// ``Entry/elementCount`` elements. Integer types above 2^24 lose precision; use
    /// ``int64s(_:)`` for exact integers.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``, or
    ///   ``SafeTensorsError/invalidTensor(name:reason:)`` when `destination` has the wrong size.
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(SafeTensorsError) {
        let entry = try entry(name)
        guard destination.count == entry.elementCount else {
            throw .invalidTensor(
                name: name,
                reason: "destination holds \(destination.count) floats, the tensor has \(entry.elementCount) (shape \(entry.shape))")
        }
        guard let target = destination.baseAddress else { return }
        withExtendedLifetime(storage) {
            SafeTensorsConversion.convertToFloat(
                storage.base + dataStart + entry.dataOffsets.lowerBound,
                dtype: entry.dtype, count: entry.elementCount, into: target)
        }
    }

    /// The tensor's elements converted to `Float`, row-major.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``.
    public func floats(_ name: String) throws(SafeTensorsError) -> [Float] {
        let count = try entry(name).elementCount
        var error: SafeTensorsError?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(SafeTensorsError) {
                try copyFloats(name, into: buffer)
            } catch let caught {
                error = caught
                buffer.initialize(repeating: 0)
            }
            initialized = count
        }
        if let error { throw error }
        return values
    }

    /// The tensor's elements converted to `Double`, row-major: exact for every floating-point
    /// type (including F64, which ``floats(_:)`` rounds) and for integers up to 2^53.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``.
    public func doubles(_ name: String) throws(SafeTensorsError) -> [Double] {
        let entry = try entry(name)
        let source = storage.base + dataStart + entry.dataOffsets.lowerBound
        let n = entry.elementCount
        return withExtendedLifetime(storage) {
            switch entry.dtype {
            case .f64:
                return (0..<n).map {
                    Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))
                }
            case .i64:
                return (0..<n).map { Double(Int64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            case .u64:
                return (0..<n).map { Double(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            case .i32:
                return (0..<n).map { Double(Int32(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u32:
                return (0..<n).map { Double(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            default:
                // Every other type converts to Float exactly.
                var floats = [Float](repeating: 0, count: n)
                floats.withUnsafeMutableBufferPointer { buffer in
                    if let base = buffer.baseAddress {
                        SafeTensorsConversion.convertToFloat(source, dtype: entry.dtype, count: n, into: base)
                    }
                }
                return floats.map(Double.init)
            }
        }
    }

    /// The elements of an integer or boolean tensor, exactly, as `Int64`.
    /// - Throws: ``SafeTensorsError/tensorNotFound(name:available:)``, or
    ///   ``SafeTensorsError/dtypeMismatch(tensor:expected:actual:)`` for floating-point tensors and
    ///   for `U64` values above `Int64.max`.
    public func int64s(_ name: String) throws(SafeTensorsError) -> [Int64] {
        let entry = try entry(name)
        let source = storage.base + dataStart + entry.dataOffsets.lowerBound
        let n = entry.elementCount
        let result: [Int64]? = withExtendedLifetime(storage) {
            switch entry.dtype {
            case .bool, .u8: return (0..<n).map { Int64(source.load(fromByteOffset: $0, as: UInt8.self)) }
            case .i8: return (0..<n).map { Int64(source.load(fromByteOffset: $0, as: Int8.self)) }
            case .i16: return (0..<n).map { Int64(Int16(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case .u16: return (0..<n).map { Int64(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case .i32: return (0..<n).map { Int64(Int32(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u32: return (0..<n).map { Int64(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .i64: return (0..<n).map { Int64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .u64:
                var values: [Int64] = []
                values.reserveCapacity(n)
                for i in 0..<n {
                    guard let value = Int64(exactly: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                    else { return nil }
                    values.append(value)
                }
                return values
            case .f16, .bf16, .f32, .f64: return nil
            }
        }
        guard let result else {
            throw .dtypeMismatch(tensor: name, expected: [.bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64], actual: entry.dtype)
        }
        return result
    }
}
