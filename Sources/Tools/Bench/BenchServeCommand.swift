import AudioClassification
import ArgumentParser
import AudioDSP
import Foundation
import InferenceServer
import Logging
import ResNetAudio
import TensorKit

/// `audiocnn bench serve`: `POST /` latency and throughput over loopback beside the model's
/// own forward time, and the cost of each server stage.
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Latency (p50, p99) and requests/s of POST / for a 5 s clip, beside the forward time.")

    @Option(help: "Checkpoint to serve (default: a randomly initialised model of --model).") var checkpoint: String?
    @Option(help: "Model without --checkpoint: resnet34 or small.") var model = "resnet34"
    @Option(help: "Sequential requests for the latency figures.") var requests = 40
    @Option(help: "Concurrent clients for the throughput figure.") var clients = 8
    @Option(help: "Requests per client in the throughput run.") var perClient = 5
    @Flag(help: "Print one JSON object on the last line.") var json = false
    @Flag(help: "Skip the PyTorch comparison.") var noTorch = false
    @Option(help: "The PyTorch reference handler script.") var torchScript = "Scripts/bench/bench_serve_torch.py"

    func validate() throws {
        guard requests > 1, clients > 0, perClient > 0 else {
            throw ValidationError("--requests (>1), --clients and --per-client must be positive")
        }
        guard ["resnet34", "small"].contains(model) else { throw ValidationError("--model must be resnet34 or small, not \(model)") }
    }

    func run() async throws {
        let net: ResNetAudio.AudioCNN
        let classifier: AudioClassifier
        if let checkpoint {
            let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
            net = loaded.model
            classifier = try AudioClassifier(checkpoint: URL(fileURLWithPath: checkpoint))
        } else {
            net = try ResNetAudio.AudioCNN(config: model == "small" ? .small(classes: 50) : .resnet34(classes: 50), seed: 0)
            classifier = try AudioClassifier(model: net, classes: (0..<50).map { "class_\($0)" })
        }
        net.eval()
        let rate = classifier.melConfig.sampleRate
        let wav = syntheticWAV(seconds: 5, sampleRate: rate)
        let body = Array(("{\"audio_data\": \"" + wav.base64EncodedString() + "\"}").utf8)

        // Stage costs, in process.
        let frames = classifier.melConfig.frameCount(forSampleCount: 5 * rate)
        var g = RandomGenerator(seed: 1)
        var x = Tensor(zeros: [1, 1, classifier.melConfig.melCount, frames])
        x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = g.nextNormal() * 20 - 30 } }
        let forward = median(repeats: 15) { _ = withNoGrad { net(x) } }
        let forwardMaps = median(repeats: 15) { _ = withNoGrad { net.forwardWithFeatureMaps(x) } }
        let parse = median(repeats: 9) { _ = try? audioBytes(fromPredictRequestBody: body) }
        let analysis = try classifier.analyze(wav)
        let analyze = median(repeats: 15) { _ = try? classifier.analyze(wav) }
        let encode = median(repeats: 9) { _ = analysis.jsonBytes() }
        let mirror = ResponseMirror(analysis)
        let encoder = JSONEncoder()
        let foundationEncode = median(repeats: 5) { _ = try? encoder.encode(mirror) }
        let numbers = analysis.featureMaps.reduce(analysis.inputSpectrogram.values.count + analysis.waveform.values.count) {
            $0 + $1.plane.values.count
        }
        let responseBytes = analysis.jsonBytes().count

        // Over loopback.
        let service = try InferenceService(classifier: classifier, configuration: ServerConfiguration(port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var quiet = Logger(label: "audiocnn.bench.serve")
        quiet.logLevel = .critical
        let server = Task { [quiet] in
            try await service.application(logger: quiet) { port in continuation.yield(port ?? 0) }.runService()
        }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw ValidationError("the server did not report its port") }

        let client = try LoopbackHTTPClient(port: port)
        _ = try client.post("/", json: body)
        var latencies: [Double] = []
        for _ in 0..<requests {
            let start = DispatchTime.now().uptimeNanoseconds
            let (status, _) = try client.post("/", json: body)
            guard status == 200 else { throw ValidationError("POST / answered \(status)") }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, Int((Double(latencies.count) * 0.99).rounded(.up)) - 1)]

        let throughput = try concurrentRequests(port: port, body: body)

        let torch = noTorch || checkpoint != nil || model != "resnet34" ? [:] : try torchReference(wav)
        if let version = torch["torch"] as? String {
            print(
                "PyTorch \(version) reference handler stages (no HTTP; handler = their sum), same clip, same run: "
                    + ["decode_ms", "mel_ms", "forward_ms", "forward_feature_maps_ms", "json_ms", "handler_ms"]
                    .map { "\($0) \(String(format: "%.1f", torch[$0] as? Double ?? .nan))" }.joined(separator: ", "))
        }
        let overhead = (p50 - forwardMaps) / forwardMaps
        var torchFields: [(String, Double)] = []
        if let handler = torch["handler_ms"] as? Double, let forwardTorch = torch["forward_ms"] as? Double,
            let jsonTorch = torch["json_ms"] as? Double
        {
            torchFields = [
                ("torch_handler_ms", handler), ("torch_forward_ms", forwardTorch), ("torch_json_ms", jsonTorch),
                ("torch_handler_over_our_p50", handler / (p50 * 1e3)),
                ("torch_json_over_ours", jsonTorch / (encode * 1e3)),
            ]
        }
        printResult(
            [
                ("forward_ms", forward * 1e3), ("forward_feature_maps_ms", forwardMaps * 1e3),
                ("analyze_ms", analyze * 1e3), ("parse_base64_ms", parse * 1e3),
                ("json_ms", encode * 1e3), ("jsonencoder_ms", foundationEncode * 1e3),
                ("json_numbers", Double(numbers)), ("response_kb", Double(responseBytes) / 1024),
                ("p50_ms", p50 * 1e3), ("p99_ms", p99 * 1e3), ("requests_per_s_\(clients)_clients", throughput),
                ("overhead_pct_of_forward", overhead * 100), ("peak_rss_mb", peakRSSMiB()),
            ] + torchFields, json: json)
    }

    /// Runs the PyTorch reference handler on the same clip; empty when it fails.
    private func torchReference(_ wav: Data) throws -> [String: Any] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audiocnn-bench-serve-\(getpid()).wav")
        try wav.write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", torchScript, path.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            print("PyTorch comparison failed (exit \(process.terminationStatus)); Swift figures only.")
            return [:]
        }
        return object
    }

    private func concurrentRequests(port: Int, body: [UInt8]) throws -> Double {
        let group = DispatchGroup()
        let failures = FailureBox()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<clients {
            group.enter()
            let perClient = perClient
            Thread {
                defer { group.leave() }
                do {
                    let client = try LoopbackHTTPClient(port: port)
                    for _ in 0..<perClient {
                        let (status, _) = try client.post("/", json: body)
                        if status != 200 { failures.record("status \(status)") }
                    }
                } catch {
                    failures.record("\(error)")
                }
            }.start()
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let failure = failures.first { throw ValidationError("a concurrent request failed: \(failure)") }
        return Double(clients * perClient) / seconds
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func record(_ message: String) { lock.withLock { messages.append(message) } }
    var first: String? { lock.withLock { messages.first } }
}

private func median(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[repeats / 2]
}

/// A 16-bit mono WAV: a chirp with a tone and seeded noise, as a stand-in for a recording.
func syntheticWAV(seconds: Int, sampleRate: Int) -> Data {
    var g = RandomGenerator(seed: 7)
    let samples = (0..<(seconds * sampleRate)).map { i -> Float in
        let t = Double(i) / Double(sampleRate)
        return Float(0.3 * sin(2 * .pi * (200 * t + 400 * t * t)) + 0.2 * sin(2 * .pi * 1_000 * t) + 0.05 * Double(g.nextNormal()))
    }
    return WAVEncoder.pcm16(samples, sampleRate: sampleRate)
}

/// The response as `Codable` values, to time `JSONEncoder` on the same content.
private struct ResponseMirror: Encodable {
    struct P: Encodable { let `class`: String; let confidence: Float }
    struct Plane2: Encodable { let shape: [Int]; let values: [[Float]] }
    struct Wave: Encodable { let values: [Float]; let sample_rate: Int; let duration: Double }
    let predictions: [P]
    let visualization: [String: Plane2]
    let input_spectrogram: Plane2
    let waveform: Wave

    init(_ a: Analysis) {
        func plane(_ p: Plane) -> Plane2 {
            Plane2(shape: [p.height, p.width], values: (0..<p.height).map { Array(p.values[($0 * p.width)..<(($0 + 1) * p.width)]) })
        }
        predictions = a.predictions.map { P(class: $0.className, confidence: $0.confidence) }
        visualization = Dictionary(uniqueKeysWithValues: a.featureMaps.map { ($0.name, plane($0.plane)) })
        input_spectrogram = plane(a.inputSpectrogram)
        waveform = Wave(values: a.waveform.values, sample_rate: a.waveform.sampleRate, duration: a.waveform.duration)
    }
}
