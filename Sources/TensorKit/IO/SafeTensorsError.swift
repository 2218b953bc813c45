/// Why a safetensors file could not be read or written. Every case names the file, tensor or
/// key that was wrong and what was expected instead.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The input is not a safetensors file at all (`reason` says why: too short, no JSON object).
    case notSafeTensors(source: String, reason: String)
    /// The 8-byte header length is beyond the format's 100 MB limit (a corrupt or foreign file).
    case headerTooLarge(source: String, length: UInt64, limit: Int)
    /// The header length points past the end of the input.
    case truncatedHeader(source: String, headerLength: UInt64, fileSize: Int)
    /// The header is not valid UTF-8 JSON; `offset` is the byte offset inside the header.
    case invalidHeaderJSON(source: String, offset: Int, reason: String)
    /// The header is JSON but an entry does not have the form
    /// `{"dtype": String, "shape": [Int], "data_offsets": [Int, Int]}`.
    case invalidEntry(tensor: String, reason: String)
    /// The `__metadata__` entry is not a map of strings to strings.
    case invalidMetadata(reason: String)
    /// A tensor's dtype is not one this library knows.
    case unknownDType(tensor: String, dtype: String)
    /// The byte range of a tensor does not match its dtype and shape.
    case byteCountMismatch(tensor: String, dtype: SafeTensorsDType, shape: [Int], expected: Int, actual: Int)
    /// Two tensors claim some of the same bytes.
    case overlappingOffsets(tensor: String, other: String)
    /// Bytes between two tensors (or before the first) belong to no tensor.
    case gapInOffsets(tensor: String, expectedBegin: Int, actualBegin: Int)
    /// A tensor ends past the data the file holds: the file was cut short or its offsets are wrong.
    case truncatedData(tensor: String, end: Int, dataLength: Int)
    /// The file holds more data bytes than its tensors account for.
    case trailingBytes(count: Int)
    /// No tensor of that name is in the file.
    case tensorNotFound(name: String, available: [String])
    /// The tensor has a dtype the requested accessor cannot return exactly.
    case dtypeMismatch(tensor: String, expected: [SafeTensorsDType], actual: SafeTensorsDType)
    /// A tensor given to the writer is inconsistent (`reason` says how).
    case invalidTensor(name: String, reason: String)
    /// A file-system call failed (`operation` names it, `message` is the system's reason).
    case io(path: String, operation: String, message: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case let .notSafeTensors(source, reason):
            return "\(source) is not a safetensors file: \(reason)"
        case let .headerTooLarge(source, length, limit):
            return
                "\(source): header length \(length) bytes exceeds the safetensors limit of \(limit) bytes (corrupt or not a safetensors file)"
        case let .truncatedHeader(source, length, size):
            return "\(source): header claims \(length) bytes but the file holds only \(size) bytes (truncated file?)"
        case let .invalidHeaderJSON(source, offset, reason):
            return "\(source): header is not valid JSON at byte \(offset) of the header: \(reason)"
        case let .invalidEntry(tensor, reason):
            return "tensor \"\(tensor)\": invalid header entry: \(reason)"
        case let .invalidMetadata(reason):
            return "invalid __metadata__: \(reason)"
        case let .unknownDType(tensor, dtype):
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "tensor \"\(tensor)\": unknown dtype \"\(dtype)\" (expected one of \(known))"
        case let .byteCountMismatch(tensor, dtype, shape, expected, actual):
            return "tensor \"\(tensor)\": \(dtype.rawValue) with shape \(shape) needs \(expected) bytes but its data_offsets span \(actual)"
        case let .overlappingOffsets(tensor, other):
            return "tensor \"\(tensor)\" overlaps the bytes of tensor \"\(other)\""
        case let .gapInOffsets(tensor, expected, actual):
            return
                "tensor \"\(tensor)\" begins at data byte \(actual) but the previous tensor ends at \(expected): tensors must be contiguous"
        case let .truncatedData(tensor, end, length):
            return
                "tensor \"\(tensor)\" ends at data byte \(end) but the file holds only \(length) data bytes (truncated file or out-of-range data_offsets)"
        case let .trailingBytes(count):
            return "\(count) bytes after the last tensor belong to no tensor"
        case let .tensorNotFound(name, available):
            let shown = available.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
            return "no tensor named \"\(name)\" (the file has \(available.count): \(shown)\(available.count > 8 ? ", ..." : ""))"
        case let .dtypeMismatch(tensor, expected, actual):
            return "tensor \"\(tensor)\" is \(actual.rawValue), expected \(expected.map(\.rawValue).joined(separator: " or "))"
        case let .invalidTensor(name, reason):
            return "cannot write tensor \"\(name)\": \(reason)"
        case let .io(path, operation, message):
            return "\(operation) \(path): \(message)"
        }
    }
}
