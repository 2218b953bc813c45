import Foundation
import ZIPFoundation

/// Downloads a data set archive in the ESC-50 layout, extracts it and verifies it.
///
/// The work is atomic from the outside: the archive is fetched to a partial file and the
/// extraction happens in a staging folder beside the destination; only after every clip listed
/// in the metadata has been found and decoded is a completion marker written and the folder
/// renamed to the destination. A destination with the marker is returned without any network
/// access. An interrupted transfer is resumed with an HTTP `Range` request (guarded by
/// `If-Range`), within one call (up to ``maxAttempts`` tries) and across calls; a server that
/// ignores the range gets a clean restart.
///
/// ```swift
/// let data = try await ESC50Downloader().download(to: URL(fileURLWithPath: "data/ESC-50")) { got, total in
///     print(got, total ?? -1)
/// }
/// ```
public struct ESC50Downloader: Sendable {
    /// The official archive of the ESC-50 project (about 600 MiB).
    public static let officialArchive = URL(string: "https://github.com/karolpiczak/ESC-50/archive/master.zip")!

    /// The name of the file that marks a destination as completely downloaded and verified.
    public static let completionMarker = ".esc50-complete"

    /// The archive to fetch.
    public var archiveURL: URL
    /// How many transfers one call may make before giving up (values below 1 count as 1).
    public var maxAttempts: Int
    /// The wait before the second attempt, in seconds (clamped to 0...3600); it doubles for each
    /// further attempt, up to 64 times this value.
    public var retryDelay: Double
    /// The longest silence allowed from the server, in seconds.
    public var timeout: TimeInterval
    /// Checks that one clip decodes, throwing a description of the problem when it does not.
    /// The default decodes the clip with AudioDSP.
    public var verifyClip: @Sendable (URL) throws -> Void

    /// A downloader for `archiveURL` (by default the official ESC-50 archive).
    public init(
        archiveURL: URL = officialArchive, maxAttempts: Int = 5, retryDelay: Double = 1,
        timeout: TimeInterval = 60,
        verifyClip: @escaping @Sendable (URL) throws -> Void = ClipLoader.checkDecodes
    ) {
        self.archiveURL = archiveURL
        // Out-of-range settings are clamped rather than trapped on: a delay cannot be negative,
        // and a download needs at least one attempt and some patience.
        self.maxAttempts = max(1, maxAttempts)
        self.retryDelay = retryDelay.isFinite ? min(max(0, retryDelay), 3600) : 1
        self.timeout = timeout.isFinite && timeout > 0 ? timeout : 60
        self.verifyClip = verifyClip
    }

    /// Makes `destination` hold the verified data set, downloading and extracting as needed.
    ///
    /// - Parameters:
    ///   - destination: the data set's root folder to create (its parent must be writable).
    ///     Partial files are kept beside it in a hidden `.<name>.download` folder until done.
    ///   - progress: called with the bytes of the archive received so far and its total size
    ///     (`nil` when the server does not say), from a background thread.
    /// - Returns: the data set, read from `destination`.
    /// - Throws: ``DownloadError``: ``DownloadError/destinationExists(_:)`` when `destination`
    ///   holds something else, ``DownloadError/transferFailed(_:attempts:reason:)``,
    ///   ``DownloadError/httpStatus(_:url:)``, ``DownloadError/invalidArchive(_:reason:)``,
    ///   ``DownloadError/noDataSetInArchive(_:)``, ``DownloadError/invalidDataSet(_:)`` (which names
    ///   the clip and CSV line at fault) or ``DownloadError/fileSystem(_:reason:)``.
    @discardableResult
    public func download(to destination: URL, progress: (@Sendable (Int64, Int64?) -> Void)? = nil)
        async throws(DownloadError) -> SoundDataset
    {
        let fileManager = FileManager.default
        let destination = destination.standardizedFileURL
        if fileManager.fileExists(atPath: destination.path) {
            guard fileManager.fileExists(atPath: destination.appendingPathComponent(Self.completionMarker).path) else {
                throw .destinationExists(destination)
            }
            do {
                return try SoundDataset(directory: destination, layout: .esc50)
            } catch {
                throw .invalidDataSet(error)
            }
        }
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).download", isDirectory: true)
        try fs(staging) { try fileManager.createDirectory(at: staging, withIntermediateDirectories: true) }

        let archive = try await fetchArchive(into: staging, progress: progress)
        let root = try extract(archive, in: staging)
        let dataset = try verify(root)

        let marker = root.appendingPathComponent(Self.completionMarker)
        let note =
            "source: \(archiveURL.absoluteString)\nclips: \(dataset.clips.count)\nverified: \(ISO8601DateFormatter().string(from: Date()))\n"
        try fs(marker) { try Data(note.utf8).write(to: marker) }
        try fs(destination) { try fileManager.moveItem(at: root, to: destination) }
        try? fileManager.removeItem(at: staging)
        do {
            return try SoundDataset(directory: destination, layout: .esc50, checkFiles: .none)
        } catch {
            throw .invalidDataSet(error)
        }
    }

    /// Fetches the archive into `staging/archive.zip`, resuming `archive.zip.partial` if present.
    func fetchArchive(into staging: URL, progress: (@Sendable (Int64, Int64?) -> Void)?) async throws(DownloadError) -> URL {
        let fileManager = FileManager.default
        let complete = staging.appendingPathComponent("archive.zip")
        let partial = staging.appendingPathComponent("archive.zip.partial")
        let state = staging.appendingPathComponent("archive.state")
        if fileManager.fileExists(atPath: complete.path) { return complete }

        // The partial bytes belong to the URL and validator recorded beside them; anything else
        // means starting over.
        var saved = PartialState.read(from: state)
        if saved?.url != archiveURL.absoluteString {
            try? fileManager.removeItem(at: partial)
            saved = nil
        }
        var lastFailure = ""
        let attempts = max(1, maxAttempts)
        let timeout = self.timeout.isFinite && self.timeout > 0 ? self.timeout : 60
        for attempt in 1...attempts {
            if attempt > 1 {
                let delay = max(0, min(retryDelay, 3600)) * Double(1 << min(attempt - 2, 6))
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            }
            let offset = fileManager.fileExists(atPath: partial.path) ? Self.size(of: partial) : 0
            if offset == 0 { _ = fileManager.createFile(atPath: partial.path, contents: nil) }
            // The state is written before the body's first byte, so even a killed process leaves
            // partial bytes that a later call can resume.
            let source = archiveURL.absoluteString
            let result = await HTTPFileTransfer.run(
                url: archiveURL, file: partial, offset: offset,
                ifRange: saved?.validator, timeout: timeout, progress: progress,
                onBody: { PartialState(url: source, validator: $0).write(to: state) })
            switch result {
            case .success(.complete(let total, _)):
                let size = Self.size(of: partial)
                if let total, size != total {
                    lastFailure = "received \(size) bytes, expected \(total)"
                    continue
                }
                try fs(complete) { try fileManager.moveItem(at: partial, to: complete) }
                try? fileManager.removeItem(at: state)
                return complete
            case .success(.rangeNotSatisfiable(let total)):
                if let total, total == offset {
                    try fs(complete) { try fileManager.moveItem(at: partial, to: complete) }
                    try? fileManager.removeItem(at: state)
                    return complete
                }
                lastFailure = "the server refused to resume at byte \(offset)"
                try? fileManager.removeItem(at: partial)
                saved = nil
            case .failure(let failure):
                lastFailure = failure.message
                if !failure.retryable {
                    if let status = failure.status { throw .httpStatus(status, url: archiveURL) }
                    throw .transferFailed(archiveURL, attempts: attempt, reason: failure.message)
                }
                if let validator = failure.validator {
                    saved = PartialState(url: archiveURL.absoluteString, validator: validator)
                }
            }
        }
        throw .transferFailed(archiveURL, attempts: attempts, reason: lastFailure)
    }

    /// Extracts `archive` into a fresh folder under `staging`; returns the data set root in it.
    func extract(_ archive: URL, in staging: URL) throws(DownloadError) -> URL {
        let fileManager = FileManager.default
        let target = staging.appendingPathComponent("extracted", isDirectory: true)
        try? fileManager.removeItem(at: target)
        do {
            try fileManager.createDirectory(at: target, withIntermediateDirectories: true)
            try fileManager.unzipItem(at: archive, to: target)
        } catch {
            // A corrupt archive must not be resumed or reused: drop it so the next call refetches.
            try? fileManager.removeItem(at: archive)
            try? fileManager.removeItem(at: target)
            throw .invalidArchive(archive, reason: String(describing: error))
        }
        if fileManager.fileExists(atPath: target.appendingPathComponent("meta/esc50.csv").path) { return target }
        let children = (try? fileManager.contentsOfDirectory(at: target, includingPropertiesForKeys: nil)) ?? []
        for child in children.sorted(by: { $0.lastPathComponent < $1.lastPathComponent })
        where fileManager.fileExists(atPath: child.appendingPathComponent("meta/esc50.csv").path) {
            return child
        }
        throw .noDataSetInArchive(archive)
    }

    /// Reads the metadata at `root` and decodes every clip it lists, on all cores.
    func verify(_ root: URL) throws(DownloadError) -> SoundDataset {
        let dataset: SoundDataset
        do {
            dataset = try SoundDataset(directory: root, layout: .esc50)
        } catch {
            throw .invalidDataSet(error)
        }
        do {
            try dataset.verifyClips(using: verifyClip)
        } catch {
            throw .invalidDataSet(error)
        }
        return dataset
    }

    private static func size(of url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    private func fs(_ url: URL, _ body: () throws -> Void) throws(DownloadError) {
        do { try body() } catch { throw .fileSystem(url, reason: error.localizedDescription) }
    }
}

extension SoundDataset {
    /// Downloads, extracts and verifies the official ESC-50 archive into `destination`, or
    /// reads it from there if a previous call completed; see ``ESC50Downloader``.
    /// - Throws: ``DownloadError``.
    public static func download(to destination: URL, progress: (@Sendable (Int64, Int64?) -> Void)? = nil)
        async throws(DownloadError) -> SoundDataset
    {
        try await ESC50Downloader().download(to: destination, progress: progress)
    }
}

/// The URL and validator of a partial download, stored beside it as two lines.
struct PartialState {
    var url: String
    var validator: String?

    static func read(from file: URL) -> PartialState? {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let url = lines.first, !url.isEmpty else { return nil }
        let validator = lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil
        return PartialState(url: url, validator: validator)
    }

    func write(to file: URL) {
        try? Data((url + "\n" + (validator ?? "") + "\n").utf8).write(to: file, options: .atomic)
    }
}
