import _TestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
import _CSndFile
@testable import AudioClassification
@testable import InferenceServer

func requestBody(_ audio: Data) -> ByteBuffer { jsonBody(["audio_data": audio.base64EncodedString()]) }

/// The hostile-request table of Docs/Reliability.md, in process: each request gets its 4xx with
/// a JSON error, and the next good request on the same server still gets 200.
final class HostileRequestTests: XCTestCase {
    struct Case {
        let name: String
        var headers: HTTPFields = jsonHeaders
        let body: ByteBuffer
        let status: HTTPResponse.Status
        let code: String
        let detailMentions: String
    }

    /// Ten minutes of 8 kHz FLAC silence: ~100 kB of base64 that would decode to 19 MB of floats
    /// (1.8 GB at 768 kHz); refused from its header.
    private func tenMinutesOfFLAC() throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(getpid())-10min.flac")
        defer { try? FileManager.default.removeItem(at: url) }
        var info = SF_INFO()
        info.channels = 1
        info.samplerate = 8_000
        info.format = Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        let handle = try XCTUnwrap(sf_open(url.path, Int32(SFM_WRITE), &info))
        let zeros = [Int16](repeating: 0, count: 8_000)
        for _ in 0..<600 { _ = zeros.withUnsafeBufferPointer { sf_write_short(handle, $0.baseAddress, 8_000) } }
        sf_close(handle)
        return try Data(contentsOf: url)
    }

    func testHostileRequestsGetTheir4xxAndTheServerKeepsServing() async throws {
        let config = ServerConfiguration(maximumBodyBytes: 2_000_000, maximumAudioSeconds: 60, maximumChannels: 32)
        let service = try InferenceService(classifier: TestModel.shared.classifier, configuration: config)
        let good = TestClip(seconds: 0.5, sampleRate: 44_100).requestBody
        let tone = TestClip(seconds: 0.2, sampleRate: 16_000).pcm
        let pcm = tone.withUnsafeBytes { [UInt8]($0) }
        var nanFloats = tone.map { Float($0) / 32_768 }
        nanFloats[100] = .nan
        nanFloats[200] = .infinity
        let flac = try tenMinutesOfFLAC()
        XCTAssertLessThan(flac.count, 1_000_000)
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let wav = TestClip(seconds: 0.2, sampleRate: 16_000).wav
        let cases = [
            Case(
                name: "body over the limit", body: TestClip(seconds: 20, sampleRate: 44_100).requestBody,
                status: .contentTooLarge, code: "body_too_large", detailMentions: "2000000 bytes"),
            Case(
                name: "deeply nested JSON", body: ByteBuffer(string: nested), status: .badRequest, code: "invalid_json",
                detailMentions: "not valid JSON"),
            Case(
                name: "nested audio_data", body: ByteBuffer(string: "{\"audio_data\": " + nested + "}"),
                status: .badRequest, code: "invalid_json", detailMentions: "not valid JSON"),
            Case(
                name: "10 minutes of audio", body: requestBody(flac), status: .contentTooLarge, code: "audio_too_long",
                detailMentions: "lasts 600 s"),
            Case(
                name: "1-sample audio", body: requestBody(WAV.file(channels: 1, sampleRate: 16_000, bitsPerSample: 16, payload: [0, 1])),
                status: .unprocessableContent, code: "audio_too_short", detailMentions: "at least"),
            Case(
                name: "NaN/Inf float WAV",
                body: requestBody(
                    WAV.file(
                        formatTag: 3, channels: 1, sampleRate: 16_000, bitsPerSample: 32,
                        payload: nanFloats.withUnsafeBytes { [UInt8]($0) })),
                status: .unprocessableContent, code: "non_finite_audio", detailMentions: "2 NaN or infinite"),
            Case(
                name: "0 Hz", body: requestBody(WAV.file(channels: 1, sampleRate: 0, bitsPerSample: 16, payload: pcm)),
                status: .unprocessableContent, code: "invalid_audio", detailMentions: "sample rate 0 Hz"),
            Case(
                name: "10 MHz", body: requestBody(WAV.file(channels: 1, sampleRate: 10_000_000, bitsPerSample: 16, payload: pcm)),
                status: .unprocessableContent, code: "invalid_audio", detailMentions: "sample rate 10000000 Hz"),
            Case(
                name: "200 channels",
                body: requestBody(
                    WAV.file(
                        channels: 200, sampleRate: 16_000, bitsPerSample: 16,
                        payload: [UInt8](repeating: 0, count: 200 * 2 * 600))),
                status: .unprocessableContent, code: "too_many_channels", detailMentions: "200 channels"),
            Case(
                name: "truncated WAV header", body: requestBody(wav.prefix(30)), status: .unprocessableContent,
                code: "invalid_audio", detailMentions: "corrupt"),
            Case(
                name: "malformed base64", body: jsonBody(["audio_data": "UklGR" + String(repeating: "*", count: 40)]),
                status: .unprocessableContent, code: "invalid_base64", detailMentions: "base64"),
            Case(
                name: "wrong content type", headers: [.contentType: "audio/wav"], body: ByteBuffer(data: wav),
                status: .unsupportedMediaType, code: "unsupported_media_type", detailMentions: "audio/wav"),
            Case(
                name: "form content type", headers: [.contentType: "application/x-www-form-urlencoded"], body: good,
                status: .unsupportedMediaType, code: "unsupported_media_type", detailMentions: "application/json"),
        ]
        try await service.withTestClient { client in
            for c in cases {
                try await client.execute(uri: "/", method: .post, headers: c.headers, body: c.body) { response in
                    XCTAssertEqual(response.status, c.status, c.name)
                    let json = try decodeJSON(response.body)
                    XCTAssertEqual(json["error"] as? String, c.code, c.name)
                    let detail = json["detail"] as? String ?? ""
                    XCTAssertTrue(detail.contains(c.detailMentions), "\(c.name): \(detail)")
                }
                try await client.execute(uri: "/", method: .post, headers: jsonHeaders, body: good) { response in
                    XCTAssertEqual(response.status, .ok, "good request after \(c.name)")
                }
            }
            // The OpenAPI document lists every one of these answers under its status.
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                let json = try decodeJSON(response.body)
                let responses = try XCTUnwrap(((json["paths"] as? [String: Any])?["/"] as? [String: Any])?["post"] as? [String: Any])
                let byStatus = try XCTUnwrap(responses["responses"] as? [String: [String: Any]])
                for c in cases {
                    let description = byStatus[String(c.status.code)]?["description"] as? String ?? ""
                    XCTAssertTrue(description.contains(c.code), "openapi.json: \(c.status.code) does not mention \(c.code)")
                }
            }
            // JSON media types with parameters or a suffix, and no Content-Type at all, are accepted.
            for headers: HTTPFields in [[.contentType: "application/json; charset=utf-8"], [.contentType: "application/vnd.api+json"], [:]]
            {
                try await client.execute(uri: "/", method: .post, headers: headers, body: good) { response in
                    XCTAssertEqual(response.status, .ok, "\(headers)")
                }
            }
        }
    }

    func testLimitsAreValidatedAndReported() async throws {
        for bad in [
            ServerConfiguration(maximumChannels: 0), ServerConfiguration(requestTimeout: 0),
            ServerConfiguration(requestTimeout: .infinity), ServerConfiguration(maximumAudioSeconds: -1),
        ] {
            XCTAssertThrowsError(try TestModel.shared.service(bad))
        }
        let service = try TestModel.shared.service(ServerConfiguration(maximumChannels: 8, requestTimeout: 12.5))
        try await service.withTestClient { client in
            try await client.execute(uri: "/health", method: .get) { response in
                let limits = try XCTUnwrap(try decodeJSON(response.body)["limits"] as? [String: Any])
                XCTAssertEqual(limits["max_channels"] as? Int, 8)
                XCTAssertEqual(limits["request_timeout_seconds"] as? Double, 12.5)
            }
        }
    }

    /// Only the three page assets are served, from memory: no request path reaches the file system.
    func testNoRequestPathReachesTheFileSystem() async throws {
        let service = try TestModel.shared.service()
        try await service.withTestClient { client in
            for path in [
                "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fPackage.swift", "/Web/index.html",
                "/openapi.json/../../etc/passwd", "/app.js/..", "//etc/passwd", "/index.html", "/Resources/openapi.json",
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .notFound, path)
                    XCTAssertFalse(String(buffer: response.body).contains("root:"), path)
                }
            }
        }
    }

    func testDefaultsAreSafe() {
        let config = ServerConfiguration()
        XCTAssertEqual(config.host, "127.0.0.1", "the service must not be exposed unless asked")
        XCTAssertEqual(config.maximumBodyBytes, 32 * 1024 * 1024)
        XCTAssertEqual(config.maximumAudioSeconds, 60)
        XCTAssertEqual(config.maximumChannels, 32)
        XCTAssertEqual(config.requestTimeout, 30)
        XCTAssertEqual(config.concurrency, 1)
        XCTAssertEqual(config.queueLimit, 32)
    }
}
