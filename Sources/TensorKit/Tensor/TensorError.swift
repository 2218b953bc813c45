/// Errors TensorKit throws at its boundaries (creating tensors from data, loading state).
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// A shape that is not valid (`reason` says why).
    case invalidShape([Int], reason: String)
    /// `actual` scalars were given for `shape`, which holds `expected`.
    case countMismatch(shape: [Int], expected: Int, actual: Int)
    /// A reshape from `from` to `to`, whose element counts differ.
    case reshapeMismatch(from: [Int], to: [Int])
    /// A state dict entry's shape differs from the module's: `key`, the module's `expected`
    /// shape and the `actual` shape in the state dict.
    case stateShapeMismatch(key: String, expected: [Int], actual: [Int])
    /// Keys the module has that the state dict lacks (`missing`) and keys the state dict has
    /// that the module lacks (`unexpected`).
    case stateKeysMismatch(missing: [String], unexpected: [String])

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case let .invalidShape(shape, reason):
            return "invalid shape \(shape): \(reason)"
        case let .countMismatch(shape, expected, actual):
            return "shape \(shape) holds \(expected) elements but \(actual) scalars were given"
        case let .reshapeMismatch(from, to):
            return "cannot reshape a tensor of shape \(from) (\(from.reduce(1, *)) elements) to \(to)"
        case let .stateShapeMismatch(key, expected, actual):
            return "state dict entry '\(key)' has shape \(actual), the module expects \(expected)"
        case let .stateKeysMismatch(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            return "state dict does not fit the module: " + parts.joined(separator: "; ")
        }
    }
}
