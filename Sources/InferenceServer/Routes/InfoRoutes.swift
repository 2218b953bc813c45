import AudioClassification
import Hummingbird

extension InferenceService {
    /// `GET /health`, `GET /classes`, `GET /openapi.json`.
    func addInfoRoutes(to router: Router<ServerRequestContext>) {
        let health = healthJSON(), classes = classesJSON(), openAPI = assets.openAPI, pool = pool
        router.get("/health") { _, _ in
            var w = JSONWriter(capacity: health.count + 128)
            w.raw(health)
            Self.write(await pool.counters, to: &w)
            return Self.json(w.bytes)
        }
        router.get("/classes") { _, _ in Self.json(classes) }
        router.get("/openapi.json") { _, _ in Self.json(openAPI) }
    }

    static func json(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"status": "ok", "classes": n, "sample_rate", "hop_length", "mel_bins", "model": {...}, "precision", "limits": {...}`
    /// (the classifier's operand precision, `fp32` or `bf16`, and every limit of ``ServerConfiguration``), without the
    /// closing brace: ``write(_:to:)`` adds the pool's counters per request.
    private func healthJSON() -> [UInt8] {
        var w = JSONWriter()
        let m = classifier.modelConfig
        w.raw("{\"status\":\"ok\",\"classes\":")
        w.int(classifier.classes.count)
        w.raw(",\"sample_rate\":")
        w.int(classifier.melConfig.sampleRate)
        w.raw(",\"hop_length\":")
        w.int(classifier.melConfig.hopLength)
        w.raw(",\"mel_bins\":")
        w.int(classifier.melConfig.melCount)
        w.raw(",\"model\":{\"depths\":")
        w.ints(m.depths)
        w.raw(",\"widths\":")
        w.ints(m.widths)
        w.raw(",\"stem_channels\":")
        w.int(m.stemChannels)
        w.raw("},\"precision\":")
        w.string(classifier.precision.rawValue)
        w.raw(",\"limits\":{\"max_body_bytes\":")
        w.int(configuration.maximumBodyBytes)
        w.raw(",\"max_audio_seconds\":")
        w.exact(configuration.maximumAudioSeconds)
        w.raw(",\"concurrency\":")
        w.int(configuration.concurrency)
        w.raw(",\"queue_limit\":")
        w.int(configuration.queueLimit)
        w.raw(",\"max_channels\":")
        w.int(configuration.maximumChannels)
        w.raw(",\"request_timeout_seconds\":")
        w.exact(configuration.requestTimeout)
        w.byte(UInt8(ascii: "}"))
        return w.bytes
    }

    /// `,"inference":{"completed","skipped","refused","running","waiting"}}`: what the pool has done since the
    /// server started (skipped: requests whose client hung up before their inference began).
    private static func write(_ counters: InferencePool.Counters, to w: inout JSONWriter) {
        w.raw(",\"inference\":{\"completed\":")
        w.int(counters.completed)
        w.raw(",\"skipped\":")
        w.int(counters.skipped)
        w.raw(",\"refused\":")
        w.int(counters.refused)
        w.raw(",\"running\":")
        w.int(counters.running)
        w.raw(",\"waiting\":")
        w.int(counters.waiting)
        w.raw("}}")
    }

    /// `{"classes": ["dog", …]}` in logit order.
    private func classesJSON() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"classes\":[")
        for (i, name) in classifier.classes.enumerated() {
            if i > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(name)
        }
        w.raw("]}")
        return w.bytes
    }
}

extension JSONWriter {
    mutating func ints(_ values: [Int]) {
        byte(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            int(v)
        }
        byte(UInt8(ascii: "]"))
    }
}
