import AudioClassification
import Hummingbird

/// A 4xx/5xx answer of the API: `{"error": code, "detail": message}` with the status.
///
/// `detail` is FastAPI's field name, so front ends written for the reference service show the
/// message as they are.
struct APIError: HTTPResponseError, CustomStringConvertible {
    let status: HTTPResponse.Status
    let code: String
    let detail: String
    /// Whole seconds for a `Retry-After` header (503 only), nil for none.
    let retryAfterSeconds: Int?

    init(_ status: HTTPResponse.Status, _ code: String, _ detail: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
    }

    init(_ error: InferenceError) {
        switch error {
        case .audioTooLong: self.init(.contentTooLarge, error.code, error.description)
        case .checkpoint, .frontEnd: self.init(.internalServerError, error.code, error.description)
        default: self.init(.unprocessableContent, error.code, error.description)
        }
    }

    var description: String { "\(status.code) \(code): \(detail)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 128 + detail.utf8.count)
        w.raw("{\"error\":")
        w.string(code)
        w.raw(",\"detail\":")
        w.string(detail)
        w.byte(UInt8(ascii: "}"))
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }
}
