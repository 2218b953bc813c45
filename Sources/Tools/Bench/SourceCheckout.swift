import Foundation

/// Paths in the source checkout this binary was built from: the benchmarks that compare against
/// Python run the scripts in `Benchmarks/` and read the shared data set beside the checkout.
enum SourceCheckout {
    /// The package root (this file is `Sources/Tools/Bench/SourceCheckout.swift`).
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `Benchmarks/<name>` in the checkout.
    static func benchmarkScript(_ name: String) -> URL {
        root.appendingPathComponent("Benchmarks").appendingPathComponent(name)
    }
}
