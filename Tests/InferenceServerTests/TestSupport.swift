import _TestSupport
import AudioDSP
import Foundation
import Hummingbird
import HummingbirdTesting
import ResNetAudio
import TensorKit
import XCTest
@testable import AudioClassification
@testable import InferenceServer

/// Class names of the test model; one holds quotes and a backslash to exercise JSON escaping.
let testClasses = ["dog", "rain", "sea_waves", "door \"wood\" knock \\ tap", "clock_tick"]

/// A small model saved with `Checkpoint.save` and loaded back, as `audiocnn serve` does.
final class TestModel: @unchecked Sendable {
    let url: URL
    let net: ResNetAudio.AudioCNN
    let classifier: AudioClassifier

    static let shared: TestModel = try! TestModel()

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inference-server-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        url = dir.appendingPathComponent("small.safetensors")
        let model = try ResNetAudio.AudioCNN(config: .small(classes: testClasses.count), seed: 42)
        // Non-trivial BN statistics so every layer matters.
        var g = RandomGenerator(seed: 3)
        for (name, p) in model.namedBuffers() where name.hasSuffix("running_var") || name.hasSuffix("running_mean") {
            var v = p.value
            v.withUnsafeMutableBufferPointer { b in
                for i in b.indices { b[i] = name.hasSuffix("var") ? 0.5 + abs(g.nextNormal()) : 0.1 * g.nextNormal() }
            }
            p.value = v
        }
        let mel = String(decoding: try JSONEncoder().encode(MelConfig()), as: UTF8.self)
        try Checkpoint.save(
            model, metadata: CheckpointMetadata(classes: testClasses, modelConfig: model.config, melConfigJSON: mel), to: url)
        net = try Checkpoint.load(from: url).model
        classifier = try AudioClassifier(checkpoint: url)
    }

    func service(_ configuration: ServerConfiguration = ServerConfiguration()) throws -> InferenceService {
        try InferenceService(classifier: classifier, configuration: configuration)
    }
}

/// A clip as 16-bit PCM: chirp + tone + seeded noise, so libsndfile's `v / 32768` is exact.
struct TestClip {
    let sampleRate: Int
    let pcm: [Int16]

    init(seconds: Double, sampleRate: Int, seed: UInt64 = 11) {
        self.sampleRate = sampleRate
        let n = Int(seconds * Double(sampleRate))
        var g = RandomGenerator(seed: seed)
        pcm = (0..<n).map { i in
            let t = Double(i) / Double(sampleRate)
            let v = 0.3 * sin(2 * .pi * (300 * t + 900 * t * t)) + 0.2 * sin(2 * .pi * 2_000 * t) + 0.05 * Double(g.nextNormal())
            return Int16(max(-1, min(1, v)) * 32_767)
        }
    }

    var samples: [Float] { pcm.map { Float($0) / 32_768 } }

    /// A mono 16-bit RIFF/WAVE file of the clip.
    var wav: Data { WAV.pcm16([pcm], sampleRate: sampleRate) }

    /// The body of `POST /`.
    var requestBody: ByteBuffer { jsonBody(["audio_data": wav.base64EncodedString()]) }
}

func jsonBody(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: [UInt8](try! JSONSerialization.data(withJSONObject: object)))
}

func decodeJSON(_ buffer: ByteBuffer, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let data = Data(buffer.readableBytesView)
    let object = try JSONSerialization.jsonObject(with: data)
    return try XCTUnwrap(
        object as? [String: Any], "not a JSON object: \(String(decoding: data.prefix(200), as: UTF8.self))", file: file, line: line)
}

extension InferenceService {
    /// Runs `body` against the routes in process (HummingbirdTesting, no sockets).
    func withTestClient<T: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: router()).test(.router, body)
    }
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]
