import Foundation

/// Appends JSON text to a byte array without going through `Encodable`.
///
/// A response carries ~100k numbers; writing them straight into one preallocated buffer with
/// a fixed-precision formatter is several times faster than `JSONEncoder` (see
/// `audiocnn bench serve`), and the output is still plain, standard JSON.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// Bytes that are already JSON text (a prefix written earlier).
    mutating func raw(_ json: [UInt8]) { bytes.append(contentsOf: json) }

    /// `text` as a JSON string literal, escaping quotes, backslashes and control characters.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(b >> 4)])
                bytes.append(Self.hex[Int(b & 15)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        digits(value.magnitude)
    }

    /// The shortest decimal that reads back as the same `Float` (for probabilities, where callers
    /// compare exactly). Non-finite values are written as 0: JSON has no NaN.
    mutating func exact(_ value: Float) {
        guard value.isFinite else { return raw("0") }
        bytes.append(contentsOf: value.description.utf8)
    }

    /// The shortest decimal that reads back as the same `Double`; non-finite as 0.
    mutating func exact(_ value: Double) {
        guard value.isFinite else { return raw("0") }
        bytes.append(contentsOf: value.description.utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// `value` rounded to 6 significant digits (relative error below 5e-6, far under what a heat
    /// map or a plot can show), fixed-point for magnitudes in [1e-4, 1e15), trailing zeros
    /// dropped; non-finite values as 0.
    mutating func compact(_ value: Float) {
        guard value.isFinite, value != 0 else { return bytes.append(UInt8(ascii: "0")) }
        var d = Double(value)
        if d < 0 {
            bytes.append(UInt8(ascii: "-"))
            d = -d
        }
        guard d >= 1e-4, d < 1e15 else { return bytes.append(contentsOf: Float(d).description.utf8) }
        // floor(log10(d)) by comparisons: activations and dB values sit within a few decades of
        // 1, so this takes 1-3 steps and no libm call.
        var exponent = 0
        if d >= 1 {
            var p = 10.0
            while d >= p { exponent += 1; p *= 10 }
        } else {
            var p = 1.0
            repeat { exponent -= 1; p /= 10 } while d < p
        }
        let decimals = max(0, 5 - exponent)
        let unit = Self.powerOfTen(decimals)
        let scaled = UInt64((d * Double(unit)).rounded())
        digits(scaled / unit)
        var fraction = scaled % unit
        guard fraction != 0 else { return }
        var width = decimals
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        bytes.append(UInt8(ascii: "."))
        // Leading zeros of the fraction, then its digits.
        var probe: UInt64 = 10
        var length = 1
        while probe <= fraction { probe &*= 10; length += 1 }
        for _ in 0..<(width - length) { bytes.append(UInt8(ascii: "0")) }
        digits(fraction)
    }

    /// 10^n for n in 0...9 (the decimals `compact` uses), without a global table lookup.
    @inline(__always)
    private static func powerOfTen(_ n: Int) -> UInt64 {
        var p: UInt64 = 1
        for _ in 0..<n { p &*= 10 }
        return p
    }

    private mutating func digits(_ value: UInt64) {
        var v = value
        var buffer:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { b in
            var i = 20
            repeat {
                i -= 1
                b[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: b[i..<20])
        }
    }

    private mutating func digits(_ value: UInt) { digits(UInt64(value)) }
}
