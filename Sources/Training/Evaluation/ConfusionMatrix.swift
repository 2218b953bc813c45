import Foundation
import TBLogger

/// Counts of (true class, predicted class) pairs: `counts[truth][prediction]`.
public struct ConfusionMatrix: Sendable, Equatable {
    /// The class names, in label order.
    public let classes: [String]
    /// `counts[t][p]`: examples of class `t` predicted as `p`.
    public private(set) var counts: [[Int]]

    /// An empty matrix over `classes`.
    public init(classes: [String]) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    /// A matrix over `classes` from its counts, row after row (truth-major).
    init(classes: [String], counts flat: [Int]) {
        self.classes = classes
        let n = classes.count
        counts = (0..<n).map { Array(flat[($0 * n)..<(($0 + 1) * n)]) }
    }

    /// Counts one example; labels outside `0..<classes.count` are ignored.
    public mutating func add(truth: Int, prediction: Int) {
        guard counts.indices.contains(truth), counts.indices.contains(prediction) else { return }
        counts[truth][prediction] += 1
    }

    /// The number of examples counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The number predicted correctly.
    public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }

    /// `correct / total` in `[0, 1]`; 0 when empty.
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Each class's recall (correct / examples of that class); `nil` for a class with no example.
    public var perClassAccuracy: [Double?] {
        counts.indices.map { t in
            let n = counts[t].reduce(0, +)
            return n == 0 ? nil : Double(counts[t][t]) / Double(n)
        }
    }

    /// A text table: one row per true class (its name, its counts per predicted class, its
    /// accuracy), columns numbered by predicted class.
    public var text: String {
        let nameWidth = min(24, classes.map(\.count).max() ?? 0)
        let cell = max(3, String(counts.flatMap { $0 }.max() ?? 0).count + 1)
        func pad(_ s: String, _ n: Int, left: Bool = true) -> String {
            s.count >= n
                ? String(s.prefix(n))
                : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
        }
        let header = "    " + pad("true \\ predicted", max(nameWidth, 16), left: false)
        var lines = [header + counts.indices.map { pad(String($0), cell) }.joined() + "    acc"]
        for (t, row) in counts.enumerated() {
            let accuracy = perClassAccuracy[t].map { String(format: "%5.1f%%", $0 * 100) } ?? "    - "
            lines.append(
                pad(String(t), 3) + " " + pad(classes[t], max(nameWidth, 16), left: false)
                    + row.map { pad(String($0), cell) }.joined() + " " + accuracy)
        }
        return lines.joined(separator: "\n")
    }

    /// The matrix as an RGB image, `cellSize` pixels per cell: each row normalised by its class's
    /// count, white (0) to dark blue (1), with the diagonal outlined in green where it dominates.
    /// - Throws: TBLogger's `SummaryWriterError.invalidImage(reason:)` for an empty matrix.
    public func image(cellSize: Int = 16) throws(SummaryWriterError) -> SummaryImage {
        let n = classes.count, size = n * cellSize
        var pixels = [UInt8](repeating: 255, count: max(size * size * 3, 0))
        for t in 0..<n {
            let rowTotal = max(1, counts[t].reduce(0, +))
            for p in 0..<n {
                let v = Double(counts[t][p]) / Double(rowTotal)
                let colour: (UInt8, UInt8, UInt8) = (UInt8(255 - 247 * v), UInt8(255 - 207 * v), UInt8(255 - 148 * v))
                for y in 0..<cellSize {
                    for x in 0..<cellSize {
                        let border = x == 0 || y == 0
                        let i = ((t * cellSize + y) * size + p * cellSize + x) * 3
                        if border {
                            pixels[i] = 200; pixels[i + 1] = 200; pixels[i + 2] = 200
                        } else {
                            pixels[i] = colour.0; pixels[i + 1] = colour.1; pixels[i + 2] = colour.2
                        }
                    }
                }
            }
        }
        return try SummaryImage(width: size, height: size, channels: .rgb, pixels: pixels)
    }
}
