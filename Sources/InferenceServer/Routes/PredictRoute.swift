import AudioClassification
import Foundation
import Hummingbird

extension InferenceService {
    /// `POST /`: `{"audio_data": base64}` in, the reference service's analysis out.
    func addPredictRoute(to router: Router<ServerRequestContext>) {
        let limit = configuration.maximumBodyBytes
        let classifier = classifier, pool = pool, maximumSeconds = configuration.maximumAudioSeconds
        let maximumChannels = configuration.maximumChannels
        router.post("/") { request, context -> Response in
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
            let audio = try PredictRequest.audioBytes(from: body)
            let job: @Sendable () async throws -> [UInt8] = {
                try await pool.run {
                    try classifier.analyze(audio, maximumDuration: maximumSeconds, maximumChannels: maximumChannels).jsonBytes()
                }
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
}
