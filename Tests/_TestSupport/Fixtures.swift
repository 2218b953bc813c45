import Foundation

/// Locations of test fixtures and of the shared ESC-50 clips.
public enum Fixtures {
    /// The repository root, found from this source file's path.
    public static let repositoryRoot: URL = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // _TestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // root
    }()

    /// `Tests/Fixtures/<module>/<name>`.
    public static func url(_ module: String, _ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures/\(module)/\(name)")
    }

    /// `../shared/esc50` beside the checkout, or `nil` when it is absent
    /// (tests that need real clips skip with a message then).
    /// `ESC50_DIR` in the environment overrides the location.
    public static var esc50Directory: URL? {
        let env = ProcessInfo.processInfo.environment["ESC50_DIR"]
        let url =
            env.map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/esc50")
        let csv = url.appendingPathComponent("meta/esc50.csv")
        return FileManager.default.fileExists(atPath: csv.path) ? url : nil
    }
}
