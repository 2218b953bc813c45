import ESC50
import Foundation

/// A feature source whose output is a known function of the item, which counts its calls and
/// can fail on chosen files. Example `i` (by the digits of its file name) is filled with `i`.
final class CountingSource: FeatureSource, @unchecked Sendable {
    let shape: FeatureShape
    private let lock = NSLock()
    private var calls: [URL] = []
    let failing: Set<String>

    init(shape: FeatureShape = FeatureShape(mels: 4, frames: 6), failing: Set<String> = []) {
        self.shape = shape
        self.failing = failing
    }

    var callCount: Int { lock.withLock { calls.count } }
    var calledURLs: [URL] { lock.withLock { calls } }

    static func value(of item: LoaderItem) -> Float {
        Float(item.url.deletingPathExtension().lastPathComponent.filter(\.isNumber)) ?? -1
    }

    func features(of item: LoaderItem) throws -> [Float] {
        lock.withLock { calls.append(item.url) }
        if failing.contains(item.url.lastPathComponent) {
            throw ClipLoaderError.undecodable(item.url, reason: "injected failure")
        }
        return [Float](repeating: Self.value(of: item), count: shape.count)
    }

    /// `count` items `/clips/<i>.wav` with label `i % classes`.
    static func items(_ count: Int, classes: Int = 5) -> [LoaderItem] {
        (0..<count).map { LoaderItem(url: URL(fileURLWithPath: "/clips/\($0).wav"), label: $0 % classes, origin: "test:\($0)") }
    }
}
