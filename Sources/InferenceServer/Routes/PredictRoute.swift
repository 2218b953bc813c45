import Foundation
import Hummingbird

extension InferenceService {
    /// `POST /`: `{"audio_data": base64}` in, the reference service's analysis out.
    func addPredictRoute(to router: Router<BasicRequestContext>) {
        let limit = configuration.maximumBodyBytes
        let classifier = classifier, pool = pool, maximumSeconds = configuration.maximumAudioSeconds
        let maximumChannels = configuration.maximumChannels
        router.post("/") { request, _ -> Response in
            try PredictRequest.checkContentType(request.headers[.contentType])
            let tooLarge = APIError(.contentTooLarge, "body_too_large",
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
            let json: [UInt8]
            do {
                json = try await pool.run { try classifier.analyze(audio, maximumDuration: maximumSeconds, maximumChannels: maximumChannels).jsonBytes() }
            } catch let error as InferenceError {
                throw APIError(error)
            } catch InferencePool.PoolError.busy(let waiting) {
                throw APIError(.serviceUnavailable, "busy", "\(waiting) requests are already waiting for the model; retry shortly")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
        }
    }
}
