import Foundation
import Hummingbird

/// The body of `POST /`: `{"audio_data": "<base64 of an audio file>"}`.
/// Reads the body of `POST /` (`{"audio_data": "<base64>"}`) into the audio file's bytes, as the
/// server does.
/// - Throws: an error whose description says what was wrong (not JSON, missing or non-string
///   `audio_data`, invalid base64, empty).
public func audioBytes(fromPredictRequestBody body: [UInt8]) throws -> Data {
    try PredictRequest.audioBytes(from: ByteBuffer(bytes: body))
}

struct PredictRequest: Decodable {
    let audioData: String
    /// `POST /`: analyse only `start..<end` seconds of the audio (both or neither).
    var start: Double?
    var end: Double?
    /// `POST /scan`: window and hop, in seconds.
    var window: Double?
    var hop: Double?

    enum CodingKeys: String, CodingKey {
        case audioData = "audio_data"
        case start, end, window, hop
    }

    /// The segment of `POST /` asked for, or `nil` for the whole clip.
    /// - Throws: ``APIError`` 422 `invalid_field` unless both or neither of `start` and `end` are
    ///   given, finite, with `0 <= start < end`.
    func segment() throws -> Range<Double>? {
        switch (start, end) {
        case (nil, nil): return nil
        case (let start?, let end?) where start.isFinite && end.isFinite && start >= 0 && start < end: return start..<end
        default:
            throw APIError(
                .unprocessableContent, "invalid_field",
                "\"start\" and \"end\" must both be given, in seconds, with 0 <= start < end; got \(start.map { "\($0)" } ?? "none") and \(end.map { "\($0)" } ?? "none")"
            )
        }
    }

    /// Accepts a JSON media type (`application/json`, `…+json`, any parameters) or no
    /// `Content-Type` at all (scripts that post a JSON string without one).
    /// - Throws: ``APIError`` 415 `unsupported_media_type` naming the type that was sent.
    static func checkContentType(_ value: String?) throws {
        guard let value else { return }
        let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            let shown = value.count > 100 ? String(value.prefix(100)) + "…" : value
            throw APIError(
                .unsupportedMediaType, "unsupported_media_type",
                "Content-Type is \"\(shown)\"; expected application/json with a body {\"audio_data\": \"<base64 of an audio file>\"}")
        }
    }

    /// Parses the JSON body and decodes its base64 (a `data:…;base64,` prefix is accepted).
    /// - Throws: ``APIError`` 400 `invalid_json`, 422 `missing_field`, `invalid_field`,
    ///   `invalid_base64` or `empty_audio`.
    static func audioBytes(from body: ByteBuffer) throws -> Data {
        try parse(body).audio
    }

    /// The request and its audio file's bytes.
    /// - Throws: as ``audioBytes(from:)``.
    static func parse(_ body: ByteBuffer) throws -> (request: PredictRequest, audio: Data) {
        let request: PredictRequest
        do {
            request = try body.withUnsafeReadableBytes { try JSONDecoder().decode(PredictRequest.self, from: Data($0)) }
        } catch DecodingError.keyNotFound {
            throw APIError(
                .unprocessableContent, "missing_field",
                "the JSON body has no \"audio_data\" field; expected {\"audio_data\": \"<base64 of an audio file>\"}")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            if let key = context.codingPath.first, key.stringValue != "audio_data" {
                throw APIError(.unprocessableContent, "invalid_field", "\"\(key.stringValue)\" must be a number of seconds")
            }
            throw APIError(.unprocessableContent, "invalid_field", "\"audio_data\" must be a string holding the base64 of an audio file")
        } catch {
            let detail = body.readableBytes == 0 ? "the request body is empty" : "the request body is not valid JSON"
            throw APIError(.badRequest, "invalid_json", "\(detail); expected {\"audio_data\": \"<base64 of an audio file>\"}")
        }
        var text = Substring(request.audioData)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") {
            text = text[text.index(after: comma)...]
        }
        guard !text.isEmpty else {
            throw APIError(.unprocessableContent, "empty_audio", "\"audio_data\" is empty; expected the base64 of an audio file")
        }
        guard let data = Data(base64Encoded: String(text)) else {
            throw APIError(
                .unprocessableContent, "invalid_base64", "\"audio_data\" is not valid base64 (RFC 4648, standard alphabet with padding)")
        }
        guard !data.isEmpty else {
            throw APIError(.unprocessableContent, "empty_audio", "\"audio_data\" decodes to 0 bytes; expected an audio file")
        }
        return (request, data)
    }
}
