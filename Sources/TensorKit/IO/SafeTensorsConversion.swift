/// Element conversions between the stored safetensors types and `Float` / `Int64`.
///
/// Half-precision conversions are written out rather than using `Float16` because that type is
/// unavailable on some platforms (macOS on Intel); both round to nearest, ties to even, as
/// PyTorch and NumPy do.
enum SafeTensorsConversion {
    /// IEEE binary16 bits to `Float` (exact: every half value is a float).
    @inline(__always)
    static func float(fromHalfBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Subnormal or zero: mantissa * 2^-24, exact in binary32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    /// `Float` to IEEE binary16 bits, rounding to nearest even; overflow gives infinity and NaN
    /// stays a (quiet) NaN.
    @inline(__always)
    static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
        }
        let unbiased = exponent - 127
        if unbiased > 15 { return sign | 0x7C00 }
        if unbiased >= -14 {
            // Normal half: keep 10 mantissa bits, round the dropped 13 to nearest even. A carry
            // out of the mantissa correctly bumps the exponent (up to infinity).
            var half = UInt32(unbiased + 15) << 10 | (mantissa >> 13)
            let dropped = mantissa & 0x1FFF
            if dropped > 0x1000 || (dropped == 0x1000 && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        if unbiased < -25 { return sign }
        // Subnormal half: value = m * 2^-24 with the implicit bit made explicit.
        let full = mantissa | 0x80_0000
        // value = full * 2^(unbiased - 23) = half * 2^-24, so half = full >> (-unbiased - 1).
        let shift = UInt32(-unbiased - 1)
        var half = full >> shift
        let remainder = full & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }

    /// bfloat16 bits to `Float` (exact).
    @inline(__always)
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// `Float` to bfloat16 bits, rounding to nearest even as `c10::BFloat16` does; NaN becomes
    /// the canonical quiet NaN `0x7FC0`.
    @inline(__always)
    static func bfloat16Bits(from value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// Converts `count` stored elements at `source` (any alignment) to `Float`.
    static func convertToFloat(
        _ source: UnsafeRawPointer, dtype: SafeTensorsDType, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        switch dtype {
        case .f32:
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            #else
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
        case .f16:
            for i in 0..<count {
                destination[i] = float(fromHalfBits: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                destination[i] = float(fromBFloat16Bits: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        case .f64:
            for i in 0..<count {
                destination[i] = Float(
                    Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        case .bool, .u8:
            for i in 0..<count { destination[i] = Float(source.load(fromByteOffset: i, as: UInt8.self)) }
        case .i8:
            for i in 0..<count { destination[i] = Float(source.load(fromByteOffset: i, as: Int8.self)) }
        case .i16:
            for i in 0..<count { destination[i] = Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))) }
        case .u16:
            for i in 0..<count {
                destination[i] = Float(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        case .i32:
            for i in 0..<count { destination[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) }
        case .u32:
            for i in 0..<count {
                destination[i] = Float(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        case .i64:
            for i in 0..<count { destination[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
        case .u64:
            for i in 0..<count {
                destination[i] = Float(UInt64(littleEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
            }
        }
    }

    /// Writes `count` floats as `dtype` (one of the floating-point types) into `destination`.
    static func convertFromFloat(
        _ source: UnsafePointer<Float>, count: Int, to dtype: SafeTensorsDType, into destination: UnsafeMutableRawPointer
    ) {
        switch dtype {
        case .f32:
            #if _endian(little)
            destination.copyMemory(from: source, byteCount: count * 4)
            #else
            for i in 0..<count { destination.storeBytes(of: source[i].bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            #endif
        case .f16:
            for i in 0..<count { destination.storeBytes(of: halfBits(from: source[i]).littleEndian, toByteOffset: i * 2, as: UInt16.self) }
        case .bf16:
            for i in 0..<count {
                destination.storeBytes(of: bfloat16Bits(from: source[i]).littleEndian, toByteOffset: i * 2, as: UInt16.self)
            }
        case .f64:
            for i in 0..<count {
                destination.storeBytes(of: Double(source[i]).bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        default:
            preconditionFailure("convertFromFloat called with integer dtype \(dtype.rawValue)")
        }
    }
}
