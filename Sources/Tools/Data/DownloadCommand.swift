import ArgumentParser
import ESC50
import Foundation

/// `audiocnn download`: fetch, extract and verify ESC-50 (or any archive in its layout).
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download, extract and verify the ESC-50 data set (about 600 MiB).",
        discussion: """
            Fetches the archive (resuming an interrupted transfer with HTTP Range requests, in this \
            run or the next), extracts it beside the destination and decodes every clip its \
            meta/esc50.csv lists; only then does the destination appear, with a .esc50-complete \
            marker. Running it again on a completed destination does nothing.
            """
    )

    @Option(name: .long, help: "The data set folder to create.")
    var to = "data/ESC-50"

    @Option(name: .long, help: "The archive to fetch (a ZIP in the ESC-50 layout).")
    var url = ESC50Downloader.officialArchive.absoluteString

    @Option(help: "Transfer attempts before giving up.")
    var attempts = 5

    func validate() throws {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            throw ValidationError("--url must be an http or https URL, got '\(url)'")
        }
        guard attempts > 0 else { throw ValidationError("--attempts must be positive, got \(attempts)") }
    }

    func run() async throws {
        let downloader = ESC50Downloader(archiveURL: URL(string: url)!, maxAttempts: attempts)
        let interactive = isatty(STDERR_FILENO) != 0
        let reporter = ProgressReporter(interactive: interactive)
        let dataset = try await downloader.download(to: URL(fileURLWithPath: to)) { received, total in
            reporter.report(received, total)
        }
        reporter.finish()
        print(
            "\(dataset.root.path): \(dataset.clips.count) clips, \(dataset.classes.count) classes, folds \(dataset.folds.map(String.init).joined(separator: ","))"
        )
    }
}

/// Prints download progress to stderr: one rewritten line on a terminal, a line per 10% otherwise.
private final class ProgressReporter: @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var lastShown = -1
    private var lastTime = 0.0

    init(interactive: Bool) { self.interactive = interactive }

    func report(_ received: Int64, _ total: Int64?) {
        lock.withLock {
            let mib = Double(received) / 1_048_576
            if let total, total > 0 {
                let percent = Int(received * 100 / total)
                if interactive {
                    let now = Date().timeIntervalSince1970
                    guard percent != lastShown || now - lastTime > 0.5 else { return }
                    lastTime = now
                    FileHandle.standardError.write(
                        Data(String(format: "\rdownloading: %3d%% (%.1f of %.1f MiB)", percent, mib, Double(total) / 1_048_576).utf8))
                } else if percent / 10 != lastShown / 10 {
                    FileHandle.standardError.write(Data(String(format: "downloading: %d%% (%.1f MiB)\n", percent, mib).utf8))
                }
                lastShown = percent
            } else if interactive {
                FileHandle.standardError.write(Data(String(format: "\rdownloading: %.1f MiB", mib).utf8))
            }
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
