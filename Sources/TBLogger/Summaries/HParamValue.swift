/// The value of one hyper-parameter for ``SummaryWriter/addHParams(_:metrics:runName:step:)``;
/// TensorBoard's HParams dashboard knows numbers, strings and booleans.
public enum HParamValue: Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    /// A number (stored as a double, as TensorBoard does).
    case number(Double)
    /// A string such as an optimiser's name.
    case string(String)
    /// A flag, stored as a protobuf bool with type `DATA_TYPE_BOOL` as TensorBoard's own HParams
    /// API does (PyTorch's `add_hparams` turns booleans into numbers).
    case bool(Bool)

    /// `.number(value)`.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// `.number(Double(value))`.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// `.string(value)`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `.bool(value)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
