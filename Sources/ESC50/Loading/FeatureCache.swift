import Foundation

/// An on-disk cache of computed features (e.g. log-Mel spectrograms), one file per clip and
/// feature configuration.
///
/// An entry is keyed by the SHA-256 of the clip's bytes and of an identity string describing
/// everything that shaped the features (Mel configuration, sample rate, duration), so editing a
/// clip or changing a setting can never serve a stale entry. Entries are written to a temporary
/// name and renamed, so a crash never leaves a truncated entry under a valid name; an entry that
/// fails its checks (wrong magic, shape or size) is treated as absent and recomputed.
public struct FeatureCache: Sendable {
    /// The folder holding the entries.
    public let directory: URL

    /// A cache in `directory`, created if needed.
    /// - Throws: ``FeatureCacheError/cannotCreate(_:reason:)`` when the folder cannot be made.
    public init(directory: URL) throws(FeatureCacheError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreate(directory, reason: error.localizedDescription)
        }
        self.directory = directory
    }

    private static let magic: [UInt8] = Array("ESC50FC1".utf8)
    private static let headerSize = 16

    /// The entry file for content digest `contentKey` under feature configuration `identity`.
    func entryURL(contentKey: String, identity: String) -> URL {
        let key = SHA256.hex(Array((contentKey + "\n" + identity).utf8))
        return directory.appendingPathComponent(String(key.prefix(2)), isDirectory: true)
            .appendingPathComponent(key + ".f32")
    }

    /// The cached features at `url` if present and of `shape`, else `nil`.
    func load(_ url: URL, shape: FeatureShape) -> [Float]? {
        guard let data = try? Data(contentsOf: url),
            data.count == Self.headerSize + shape.count * 4
        else { return nil }
        return data.withUnsafeBytes { raw -> [Float]? in
            guard Array(raw[0..<8]) == Self.magic,
                raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian == UInt32(shape.mels),
                raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian == UInt32(shape.frames)
            else { return nil }
            return [Float](unsafeUninitializedCapacity: shape.count) { out, initialized in
                for i in 0..<shape.count {
                    out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: Self.headerSize + i * 4, as: UInt32.self).littleEndian)
                }
                initialized = shape.count
            }
        }
    }

    /// Stores `features` of `shape` at `url` atomically.
    func store(_ features: [Float], shape: FeatureShape, at url: URL) throws(FeatureCacheError) {
        var data = Data(capacity: Self.headerSize + features.count * 4)
        data.append(contentsOf: Self.magic)
        withUnsafeBytes(of: UInt32(shape.mels).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(shape.frames).littleEndian) { data.append(contentsOf: $0) }
        #if _endian(little)
        features.withUnsafeBytes { data.append(contentsOf: $0) }
        #else
        for value in features { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        #endif
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: temporary)
            // rename(2) replaces atomically; a concurrent writer of the same entry wrote the same bytes.
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWrite(url, reason: error.localizedDescription)
        }
    }
}

/// A ``FeatureSource`` that serves features from a ``FeatureCache`` and computes (and stores)
/// only those it does not have.
public struct CachedFeatureSource: FeatureSource {
    /// The source that computes missing entries.
    public let base: any FeatureSource
    /// Everything that shapes the features besides the clip's bytes (settings, versions).
    public let identity: String
    /// Where entries live.
    public let cache: FeatureCache
    private let digests = DigestMemo()

    /// Caches `base`'s features in `cache`; `identity` must change whenever anything that
    /// affects `base`'s output changes (e.g. `String(describing: melConfig)` plus the clip length).
    public init(base: any FeatureSource, identity: String, cache: FeatureCache) {
        self.base = base
        self.identity = identity
        self.cache = cache
    }

    public var shape: FeatureShape { base.shape }

    /// The cached features of `item`, computing and storing them on a miss.
    /// - Throws: what `base` throws, ``FeatureCacheError/cannotRead(_:reason:)`` when the clip
    ///   cannot be read for hashing, ``FeatureCacheError/cannotWrite(_:reason:)`` on a full disk.
    public func features(of item: LoaderItem) throws -> [Float] {
        let entry = cache.entryURL(contentKey: try digests.digest(of: item.url), identity: identity)
        if let cached = cache.load(entry, shape: shape) { return cached }
        let computed = try base.features(of: item)
        try cache.store(computed, shape: shape, at: entry)
        return computed
    }
}

/// Remembers file digests by (path, size, modification time), so later epochs do not re-hash
/// clips that have not changed.
private final class DigestMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: (size: Int, modified: Date, digest: String)] = [:]

    func digest(of url: URL) throws(FeatureCacheError) -> String {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        } catch {
            throw .cannotRead(url, reason: error.localizedDescription)
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let modified = attributes[.modificationDate] as? Date ?? .distantPast
        if let hit = lock.withLock({ known[url.path] }), hit.size == size, hit.modified == modified {
            return hit.digest
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .cannotRead(url, reason: error.localizedDescription)
        }
        var hasher = SHA256()
        data.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        lock.withLock { known[url.path] = (size, modified, digest) }
        return digest
    }
}

/// What can go wrong with the feature cache.
public enum FeatureCacheError: Error, CustomStringConvertible {
    /// The cache folder could not be created.
    case cannotCreate(URL, reason: String)
    /// A clip could not be read to compute its digest.
    case cannotRead(URL, reason: String)
    /// An entry could not be written.
    case cannotWrite(URL, reason: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .cannotCreate(let url, let reason): return "\(url.path): cannot create the feature cache: \(reason)"
        case .cannotRead(let url, let reason): return "\(url.path): cannot read the clip to key the cache: \(reason)"
        case .cannotWrite(let url, let reason): return "\(url.path): cannot write a cache entry: \(reason)"
        }
    }
}
