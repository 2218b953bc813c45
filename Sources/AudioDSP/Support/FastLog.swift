import Foundation

/// Vectorisable `10 log10(max(x, floor)) - subtract` over a buffer.
enum FastLog {
    static func tenLog10(_ x: UnsafeMutablePointer<Float>, count: Int, floor: Float, subtract: Float) {
        for i in 0..<count {
            x[i] = 10 * log10(max(x[i], floor)) - subtract
        }
    }
}
