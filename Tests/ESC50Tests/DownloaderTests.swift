@testable import ESC50
import XCTest
import ZIPFoundation

/// The downloader against a loopback HTTP server serving a small archive in the layout of
/// GitHub's `ESC-50-master.zip` (a top folder holding `audio/` and `meta/`).
final class DownloaderTests: XCTestCase {
    /// A zipped synthetic data set (padded with a stored incompressible file so transfers span
    /// many reads) and its clip count.
    private func makeArchive(
        rows: [SyntheticDataset.Row] = SyntheticDataset.rows(), csv: String? = nil,
        corruptClip: String? = nil
    ) throws -> (data: Data, clips: Int) {
        let folder = try temporaryFolder(self)
        let dataset = try SyntheticDataset.make(rows: rows, csvText: csv, samples: 2000, in: folder)
        if let corruptClip { try Data("not audio at all".utf8).write(to: dataset.audio.appendingPathComponent(corruptClip)) }
        var generator = SeededGenerator(seed: 1)
        let noise = Data((0..<200_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try noise.write(to: dataset.root.appendingPathComponent("README.bin"))
        let top = folder.appendingPathComponent("ESC-50-master")
        try FileManager.default.moveItem(at: dataset.root, to: top)
        let zip = folder.appendingPathComponent("master.zip")
        try FileManager.default.zipItem(at: top, to: zip)  // keeps the top folder, as GitHub's archive does
        return (try Data(contentsOf: zip), rows.count)
    }

    private func server(_ body: Data, honoursRanges: Bool = true, drops: Int = 0, dropAfter: Int = 0) throws -> LoopbackHTTPServer {
        let server = try LoopbackHTTPServer(body: body, honoursRanges: honoursRanges, drops: drops, dropAfter: dropAfter)
        addTeardownBlock { server.stop() }
        return server
    }

    private func downloader(_ server: LoopbackHTTPServer, attempts: Int = 5) -> ESC50Downloader {
        ESC50Downloader(archiveURL: server.url, maxAttempts: attempts, retryDelay: 0, timeout: 10)
    }

    private final class ProgressLog: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [(Int64, Int64?)] = []
        func record(_ got: Int64, _ total: Int64?) { lock.withLock { values.append((got, total)) } }
        var all: [(Int64, Int64?)] { lock.withLock { values } }
    }

    func testDownloadsExtractsVerifiesAndThenReusesTheResult() async throws {
        let archive = try makeArchive()
        let server = try server(archive.data)
        let destination = try temporaryFolder(self).appendingPathComponent("ESC-50")
        let log = ProgressLog()
        let dataset = try await downloader(server).download(to: destination) { log.record($0, $1) }
        XCTAssertEqual(dataset.clips.count, archive.clips)
        XCTAssertEqual(dataset.root.path, destination.path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: destination.appendingPathComponent(ESC50Downloader.completionMarker).path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: destination.appendingPathComponent("audio/\(dataset.clips[0].filename)").path))
        // Nothing is left beside the destination.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination.deletingLastPathComponent().path), ["ESC-50"])
        // Progress rises to the archive's size, which the server announced.
        let progress = log.all
        XCTAssertEqual(progress.last?.0, Int64(archive.data.count))
        XCTAssertEqual(progress.last?.1, Int64(archive.data.count))
        XCTAssertEqual(progress.map(\.0), progress.map(\.0).sorted())
        XCTAssertEqual(server.requests, [.init(path: "/archive.zip", range: nil, ifRange: nil)])
        // A second call finds the completed data set and does not touch the network.
        let again = try await downloader(server).download(to: destination)
        XCTAssertEqual(again.clips, dataset.clips)
        XCTAssertEqual(server.requests.count, 1)
    }

    func testResumesADroppedTransferWithARangeRequest() async throws {
        let archive = try makeArchive()
        let cut = archive.data.count * 2 / 5
        let server = try server(archive.data, drops: 1, dropAfter: cut)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        let dataset = try await downloader(server).download(to: destination)
        XCTAssertEqual(dataset.clips.count, archive.clips)
        let requests = server.requests
        XCTAssertEqual(requests.count, 2)
        XCTAssertNil(requests[0].range)
        XCTAssertEqual(requests[1].range, "bytes=\(cut)-")
        XCTAssertEqual(requests[1].ifRange, "\"v1\"")
        // Only the missing bytes were sent again.
        XCTAssertEqual(server.totalBodyBytesSent, archive.data.count)
    }

    func testFollowsARedirectAndResumesThroughIt() async throws {
        let archive = try makeArchive()
        let cut = archive.data.count / 4
        let server = try server(archive.data, drops: 1, dropAfter: cut)
        var downloader = downloader(server)
        downloader.archiveURL = URL(string: "http://127.0.0.1:\(server.port)/redirect")!
        let dataset = try await downloader.download(to: try temporaryFolder(self).appendingPathComponent("data"))
        XCTAssertEqual(dataset.clips.count, archive.clips)
        let requests = server.requests
        XCTAssertEqual(requests.map(\.path), ["/redirect", "/archive.zip", "/redirect", "/archive.zip"])
        XCTAssertEqual(requests.last?.range, "bytes=\(cut)-", "the Range header survives the redirect")
        XCTAssertEqual(server.totalBodyBytesSent, archive.data.count)
    }

    func testResumesAcrossCallsAndAnInterruptedCallLeavesNoDataSet() async throws {
        let archive = try makeArchive()
        let cut = archive.data.count / 3
        let server = try server(archive.data, drops: 1, dropAfter: cut)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        do {
            try await downloader(server, attempts: 1).download(to: destination)
            XCTFail("the transfer was cut; the call must fail")
        } catch {
            guard case .transferFailed(_, let attempts, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts, 1)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path), "an interrupted download never looks complete")
        let dataset = try await downloader(server).download(to: destination)
        XCTAssertEqual(dataset.clips.count, archive.clips)
        XCTAssertEqual(server.requests.last?.range, "bytes=\(cut)-")
        XCTAssertEqual(server.totalBodyBytesSent, archive.data.count)
    }

    func testRestartsCleanlyWhenTheServerIgnoresRanges() async throws {
        let archive = try makeArchive()
        let server = try server(archive.data, honoursRanges: false, drops: 1, dropAfter: archive.data.count / 2)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        let dataset = try await downloader(server).download(to: destination)
        XCTAssertEqual(dataset.clips.count, archive.clips)
        XCTAssertEqual(server.requests.count, 2)
        XCTAssertNotNil(server.requests[1].range, "it asked to resume")
        XCTAssertEqual(server.totalBodyBytesSent, archive.data.count / 2 + archive.data.count, "then took the whole body")
    }

    func testRestartsWhenTheArchiveChangedBetweenCalls() async throws {
        let first = try makeArchive(rows: SyntheticDataset.rows(folds: 1))
        let second = try makeArchive(rows: SyntheticDataset.rows(folds: 2))
        let server = try server(first.data, drops: 1, dropAfter: first.data.count / 2)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        _ = try? await downloader(server, attempts: 1).download(to: destination)
        server.update(body: second.data, etag: "\"v2\"")
        let dataset = try await downloader(server).download(to: destination)
        // If-Range carried the old ETag, so the server sent the new archive whole.
        XCTAssertEqual(server.requests.last?.ifRange, "\"v1\"")
        XCTAssertEqual(dataset.clips.count, second.clips)
    }

    func testACorruptArchiveIsReportedAndDiscarded() async throws {
        var generator = SeededGenerator(seed: 3)
        let junk = Data((0..<50_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let server = try server(junk)
        let parent = try temporaryFolder(self)
        let destination = parent.appendingPathComponent("data")
        do {
            try await downloader(server).download(to: destination)
            XCTFail("junk is not an archive")
        } catch {
            guard case .invalidArchive = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
        let staging = parent.appendingPathComponent(".data.download")
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.appendingPathComponent("archive.zip").path))
    }

    func testAnUnreadableClipInTheArchiveNamesTheClipAndLine() async throws {
        let rows = SyntheticDataset.rows()
        let archive = try makeArchive(rows: rows, corruptClip: rows[4].filename)
        let server = try server(archive.data)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        do {
            try await downloader(server).download(to: destination)
            XCTFail("a clip does not decode")
        } catch {
            guard case .invalidDataSet(.unreadableClip(_, let line, let clip, _)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 6)
            XCTAssertEqual(clip.lastPathComponent, rows[4].filename)
            XCTAssertTrue("\(error)".contains(rows[4].filename))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
    }

    func testAMissingClipInTheArchiveIsReported() async throws {
        var rows = SyntheticDataset.rows()
        let archive = try makeArchive(rows: rows, csv: SyntheticDataset.csv(rows + [("1-5-A-0.wav", 1, 0, "dog", true, "5", "A")]))
        rows.append(("1-5-A-0.wav", 1, 0, "dog", true, "5", "A"))
        let server = try server(archive.data)
        let destination = try temporaryFolder(self).appendingPathComponent("data")
        do {
            try await downloader(server).download(to: destination)
            XCTFail("a clip is missing")
        } catch {
            guard case .invalidDataSet(.missingClip(_, let line, _)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(line, rows.count + 1)
        }
    }

    func testRefusesADestinationItDidNotComplete() async throws {
        let server = try server(Data("x".utf8))
        let destination = try temporaryFolder(self)
        do {
            try await downloader(server).download(to: destination)
            XCTFail("an existing folder without the marker must not be touched")
        } catch {
            guard case .destinationExists(let url) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(url.path, destination.standardizedFileURL.path)
        }
        XCTAssertTrue(server.requests.isEmpty)
    }

    func testOutOfRangeSettingsAreClampedNotTrappedOn() async throws {
        let archive = try makeArchive(rows: SyntheticDataset.rows(folds: 1))
        let server = try server(archive.data)
        var downloader = downloader(server)
        downloader.maxAttempts = 0
        downloader.retryDelay = -3
        downloader.timeout = -1
        let dataset = try await downloader.download(to: try temporaryFolder(self).appendingPathComponent("d"))
        XCTAssertEqual(dataset.clips.count, archive.clips)
    }

    func testHTTPErrorsAreNotRetried() async throws {
        let server = try server(Data("x".utf8))
        var downloader = downloader(server)
        downloader.archiveURL = URL(string: "http://127.0.0.1:\(server.port)/missing.zip")!
        let destination = try temporaryFolder(self).appendingPathComponent("d")
        do {
            try await downloader.download(to: destination)
            XCTFail("404")
        } catch {
            guard case .httpStatus(404, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(server.requests.count, 1)
    }
}
