import ArgumentParser
import AudioDSP
import ESC50
import Foundation

/// `audiocnn bench loader`: how fast ESC-50 clips become log-Mel batches, against PyTorch.
struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Time clip decoding and log-Mel computation, single-threaded and through the DataLoader, against PyTorch.",
        discussion: """
            Uses the first --clips clips of the data set's CSV with the reference front-end (44.1 kHz, \
            5 s, n_fft 1024, hop 512, 128 Mels). "single" decodes and transforms one clip at a time \
            on one thread; "loader" runs the DataLoader (batch 32, --workers threads) with a consumer \
            that does nothing; "cached" is a second epoch served from the on-disk log-Mel cache. \
            The same clips then go through Benchmarks/esc50_loader_torch.py (soundfile + torch.stft \
            Mel, one thread; librosa; and a torch DataLoader with 2 worker processes) unless --no-torch. \
            Rates are the best of --repeats, in clips per second.
            """
    )

    @Option(help: "The data set folder (ESC-50 layout). Defaults to ../shared/esc50 beside the checkout.")
    var data: String?

    @Option(help: "How many clips to time.")
    var clips = 80

    @Option(help: "Repeats; the best is reported.")
    var repeats = 3

    @Option(help: "DataLoader worker threads.")
    var workers = 2

    @Flag(help: "Skip the PyTorch comparison.")
    var noTorch = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard clips > 0 else { throw ValidationError("--clips must be positive, got \(clips)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        guard workers > 0 else { throw ValidationError("--workers must be positive, got \(workers)") }
    }

    func run() throws {
        let root =
            data.map { URL(fileURLWithPath: $0) }
            ?? SourceCheckout.root.deletingLastPathComponent().appendingPathComponent("shared/esc50")
        let dataset = try SoundDataset(directory: root, layout: .esc50)
        let chosen = Array(dataset.clips.prefix(clips))
        let items = try dataset.loaderItems(chosen)
        let features = try LogMelFeatures()

        let single = try best {
            for item in items { _ = try features.features(of: item) }
        }
        let loader = try DataLoader(
            items: items, source: features,
            configuration: .init(batchSize: 32, shuffle: true, seed: 1, workers: workers))
        var epoch = 0
        let loaded = try best {
            let batches = loader.epoch(epoch)
            epoch += 1
            while try batches.next() != nil {}
        }
        let cacheFolder = FileManager.default.temporaryDirectory.appendingPathComponent("esc50-bench-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cacheFolder) }
        let cached = CachedFeatureSource(
            base: features, identity: features.cacheIdentity,
            cache: try FeatureCache(directory: cacheFolder))
        let cachedLoader = try DataLoader(
            items: items, source: cached,
            configuration: .init(batchSize: 32, shuffle: true, seed: 1, workers: workers))
        let warm = cachedLoader.epoch(0)
        while try warm.next() != nil {}
        let fromCache = try best {
            let batches = cachedLoader.epoch(epoch)
            epoch += 1
            while try batches.next() != nil {}
        }

        let rates = [
            "swift_single": Double(items.count) / single, "swift_loader": Double(items.count) / loaded,
            "swift_cached": Double(items.count) / fromCache,
        ]
        let torch = noTorch ? nil : runTorch(items.map(\.url.path))
        if json {
            var object: [String: Any] = ["benchmark": "loader", "clips": items.count, "workers": workers]
            for (key, value) in rates { object[key] = value }
            for (key, value) in torch ?? [:] { object[key] = value }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(items.count) clips, 5 s at 44.1 kHz -> 128x431 log-Mel (clips/s, best of \(repeats)):")
        print(String(format: "  Swift  single thread           %7.1f", rates["swift_single"]!))
        print(String(format: "  Swift  DataLoader, %d workers   %7.1f", workers, rates["swift_loader"]!))
        print(String(format: "  Swift  DataLoader, cached      %7.1f", rates["swift_cached"]!))
        if let torch {
            print(
                String(
                    format: "  torch  single thread           %7.1f   (Swift %.2fx)", torch["torch_single"] ?? 0,
                    rates["swift_single"]! / (torch["torch_single"] ?? .nan)))
            print(
                String(
                    format: "  librosa single thread          %7.1f   (Swift %.2fx)", torch["librosa_single"] ?? 0,
                    rates["swift_single"]! / (torch["librosa_single"] ?? .nan)))
            if let torchLoader = torch["torch_loader"] {
                print(
                    String(
                        format: "  torch  DataLoader, 2 processes %7.1f   (Swift %.2fx)", torchLoader,
                        rates["swift_loader"]! / torchLoader))
            }
        }
    }

    /// The best wall time of `repeats` runs of `body`, in seconds.
    private func best(_ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    /// Runs Benchmarks/esc50_loader_torch.py on `paths`; `nil` (with a note) when it cannot.
    private func runTorch(_ paths: [String]) -> [String: Double]? {
        let script = SourceCheckout.benchmarkScript("esc50_loader_torch.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--repeats", String(repeats)]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            FileHandle.standardError.write(Data("bench loader: cannot run python3 (\(error)); no PyTorch comparison\n".utf8))
            return nil
        }
        input.fileHandleForWriting.write(Data(paths.joined(separator: "\n").utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            FileHandle.standardError.write(
                Data("bench loader: \(script.path) failed (are torch and librosa installed?); no PyTorch comparison\n".utf8))
            return nil
        }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }.filter { $0.key != "clips" }
    }
}
