import AudioClassification
import ArgumentParser
import Foundation
import InferenceServer
import Logging

/// `audiocnn serve --checkpoint C [--host 127.0.0.1] [--port 8000]`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve predictions over HTTP, with a page that shows what the network sees.",
        discussion: """
            POST / takes {"audio_data": "<base64 of an audio file>"} and returns the top-3 \
            predictions, every feature map, the input spectrogram and the waveform (Docs/API.md). \
            GET / is the visualisation page; GET /health, /classes and /openapi.json describe the \
            service. Binds to loopback unless --host says otherwise. Every limit is on by default \
            (body size, clip duration, channels, request timeout, concurrent inferences and queue); \
            see Docs/Reliability.md. --precision bf16 runs the forward passes with bfloat16 operands \
            (GET /health says which precision the server runs at).
            """
    )

    @Option(help: "The model checkpoint (.safetensors, see Docs/Checkpoints.md).")
    var checkpoint: String

    @Option(help: "Interface to listen on (0.0.0.0 for every interface).")
    var host = ServerConfiguration().host

    @Option(help: "TCP port (0 picks a free one and prints it).")
    var port = ServerConfiguration().port

    @Option(help: "Largest request body, in MiB.")
    var maxBodyMB: Double = Double(ServerConfiguration().maximumBodyBytes) / 1_048_576

    @Option(help: "Longest clip accepted, in seconds.")
    var maxSeconds = ServerConfiguration().maximumAudioSeconds

    @Option(help: "Inferences run at once (each already uses every core).")
    var concurrency = ServerConfiguration().concurrency

    @Option(help: "Requests that may wait for the model before the server answers 503.")
    var queueLimit = ServerConfiguration().queueLimit

    @Option(help: "Access-Control-Allow-Origin: * or one origin.")
    var allowOrigin = ServerConfiguration().allowedOrigin

    @Option(help: "Most channels an uploaded clip may have (checked in its header before decoding).")
    var maxChannels = ServerConfiguration().maximumChannels

    @Option(help: "Seconds a client has to send a whole request; slower connections are closed.")
    var requestTimeout = ServerConfiguration().requestTimeout

    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        guard maxBodyMB > 0 else { throw ValidationError("--max-body-mb must be positive, got \(maxBodyMB)") }
        guard maxSeconds > 0 else { throw ValidationError("--max-seconds must be positive, got \(maxSeconds)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1, got \(concurrency)") }
        guard queueLimit >= 0 else { throw ValidationError("--queue-limit must not be negative, got \(queueLimit)") }
        guard maxChannels >= 1 else { throw ValidationError("--max-channels must be at least 1, got \(maxChannels)") }
        guard requestTimeout > 0, requestTimeout.isFinite else {
            throw ValidationError("--request-timeout must be positive, got \(requestTimeout)")
        }
    }

    func run() async throws {
        let classifier = try AudioClassifier(
            checkpoint: URL(fileURLWithPath: checkpoint), maximumDuration: maxSeconds, precision: precision.resolved)
        let config = ServerConfiguration(
            host: host, port: port, maximumBodyBytes: Int(maxBodyMB * 1_048_576),
            maximumAudioSeconds: maxSeconds, concurrency: concurrency,
            queueLimit: queueLimit, allowedOrigin: allowOrigin,
            maximumChannels: maxChannels, requestTimeout: requestTimeout)
        let service = try InferenceService(classifier: classifier, configuration: config)
        let host = self.host, classes = classifier.classes.count, precision = classifier.precision
        let app = service.application { port in
            // Unbuffered, so scripts that start the server can read the port at once.
            let url = "http://\(host):\(port.map(String.init) ?? "?")/"
            FileHandle.standardOutput.write(Data("audiocnn serve: \(classes) classes, precision \(precision), listening on \(url)\n".utf8))
        }
        try await app.runService()
    }
}
