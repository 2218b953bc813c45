/// The element type of one tensor in a safetensors file, spelled as in the header (`"F32"`).
///
/// Every integer and floating-point type of the format that has a plain byte layout can be read
/// and converted to `Float`; ``SafeTensorsWriter`` writes any of them from raw bytes and
/// converts `Float` values to ``f32``, ``f16`` and ``bf16``. The 8-bit float, 4-bit and complex
/// types of newer format versions are reported as unknown.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// Boolean, one byte (0 or 1).
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// Signed 16-bit integer, little-endian.
    case i16 = "I16"
    /// Unsigned 16-bit integer, little-endian.
    case u16 = "U16"
    /// IEEE 754 binary16, little-endian.
    case f16 = "F16"
    /// bfloat16 (the upper half of a binary32), little-endian.
    case bf16 = "BF16"
    /// Signed 32-bit integer, little-endian.
    case i32 = "I32"
    /// Unsigned 32-bit integer, little-endian.
    case u32 = "U32"
    /// IEEE 754 binary32, little-endian.
    case f32 = "F32"
    /// IEEE 754 binary64, little-endian.
    case f64 = "F64"
    /// Signed 64-bit integer, little-endian (PyTorch's `int64`, e.g. `num_batches_tracked`).
    case i64 = "I64"
    /// Unsigned 64-bit integer, little-endian.
    case u64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .u8, .i8: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// Whether the type is one of the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64: return true
        default: return false
        }
    }

    /// The rank the Rust crate sorts by when it lays tensors out (larger alignment first), so files
    /// we write put every tensor on a multiple of its element size as the reference writer does.
    var layoutRank: Int {
        switch self {
        case .bool: return 0
        case .u8: return 1
        case .i8: return 2
        case .i16: return 3
        case .u16: return 4
        case .f16: return 5
        case .bf16: return 6
        case .i32: return 7
        case .u32: return 8
        case .f32: return 9
        case .f64: return 10
        case .i64: return 11
        case .u64: return 12
        }
    }
}
