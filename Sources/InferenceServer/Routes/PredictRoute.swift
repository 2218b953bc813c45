import AudioClassification
import Foundation
import Hummingbird

extension InferenceService {
    /// `POST /`: `{"audio_data": base64}` in (optionally `"start"` and `"end"` in seconds, to
    /// analyse one segment), the reference service's analysis out.
    func addPredictRoute(to router: Router<ServerRequestContext>) {
        let classifier = classifier, maximumSeconds = configuration.maximumAudioSeconds
        let maximumChannels = configuration.maximumChannels
        router.post("/") { request, context -> Response in
            try await self.respond(to: request, context: context) { body, audio in
                try classifier.analyze(
                    audio, maximumDuration: maximumSeconds, maximumChannels: maximumChannels, segment: body.segment()
                ).jsonBytes()
            }
        }
    }

    /// `POST /scan`: `{"audio_data": base64, "window"?: 5, "hop"?: 2.5}` in, every window's class
    /// probabilities out (see ``ScanResult/jsonBytes()``).
    func addScanRoute(to router: Router<ServerRequestContext>) {
        let classifier = classifier, maximumSeconds = configuration.maximumAudioSeconds
        let maximumChannels = configuration.maximumChannels
        router.post("/scan") { request, context -> Response in
            try await self.respond(to: request, context: context) { body, audio in
                let options = ScanOptions(window: body.window ?? 5, hop: body.hop ?? (body.window ?? 5) / 2)
                return try classifier.scan(audio, options: options, maximumDuration: maximumSeconds, maximumChannels: maximumChannels)
                    .jsonBytes()
            }
        }
    }

    /// Reads a JSON request body within the size limit, runs `compute` on the model pool and
    /// answers with its JSON, mapping every failure to its API error.
    func respond(
        to request: Request, context: ServerRequestContext,
        _ compute: @escaping @Sendable (PredictRequest, Data) throws -> [UInt8]
    ) async throws -> Response {
        let limit = configuration.maximumBodyBytes, pool = pool
        try PredictRequest.checkContentType(request.headers[.contentType])
        let tooLarge = APIError(
            .contentTooLarge, "body_too_large",
            "the request body is larger than this server's limit of \(limit) bytes")
        // A declared length over the limit is refused before a byte of the body is read.
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        }
        let (parsed, audio) = try PredictRequest.parse(body)
        _ = try parsed.segment()  // refused before it waits for the model
        let job: @Sendable () async throws -> [UInt8] = {
            try await pool.run { try compute(parsed, audio) }
        }
        // A client that hangs up while its request waits for the model gives up its place in
        // the queue: nobody would read the answer.
        let connection = await ClientDisconnectHandler.connection(of: context.channel)
        let json: [UInt8]
        do {
            if let connection { json = try await connection.cancellingWhenGone(job) } else { json = try await job() }
        } catch let error as InferenceError {
            throw APIError(error)
        } catch InferencePool.PoolError.busy(let waiting) {
            throw APIError(
                .serviceUnavailable, "busy", "\(waiting) requests are already waiting for the model; retry shortly",
                retryAfterSeconds: 1)
        } catch is CancellationError {
            // Nginx's "client closed request"; nobody reads it, the connection is closed after it.
            throw APIError(
                HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"), "client_closed_request",
                "the client closed the connection before the answer was ready")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}
