// ClassifyOverHTTP: send an audio file to a running `audiocnn serve` and print what came back.
//
//   swift run -c release audiocnn serve --checkpoint model.safetensors &
//   swift run -c release ClassifyOverHTTP dog.wav [http://127.0.0.1:8000/]
//
// It speaks only the public HTTP API (Docs/API.md), so it works the same against the
// reference PyTorch service.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Failure: Error, CustomStringConvertible { let description: String }

func run() async throws {
    let arguments = CommandLine.arguments.dropFirst()
    guard let path = arguments.first, arguments.count <= 2 else {
        throw Failure(description: "usage: ClassifyOverHTTP AUDIO_FILE [SERVER_URL (default http://127.0.0.1:8000/)]")
    }
    guard let server = URL(string: arguments.dropFirst().first ?? "http://127.0.0.1:8000/") else {
        throw Failure(description: "the server URL is not a URL")
    }
    let audio: Data
    do {
        audio = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw Failure(description: "cannot read \(path): \(error.localizedDescription)")
    }

    var request = URLRequest(url: server)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = try JSONSerialization.data(withJSONObject: ["audio_data": audio.base64EncodedString()])
    let started = Date()
    let (data, response): (Data, URLResponse)
    do {
        (data, response) = try await URLSession.shared.data(for: request)
    } catch {
        throw Failure(description: "cannot reach \(server): \(error.localizedDescription) (is `audiocnn serve` running?)")
    }
    let elapsed = Date().timeIntervalSince(started)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw Failure(description: "HTTP \(status): the answer is not a JSON object")
    }
    guard status == 200 else {
        throw Failure(description: "HTTP \(status) \(json["error"] as? String ?? ""): \(json["detail"] as? String ?? "no detail")")
    }

    print("\(path)  (\(audio.count) bytes, answered in \(Int(elapsed * 1000)) ms)")
    print("Predictions:")
    for (i, p) in (json["predictions"] as? [[String: Any]] ?? []).enumerated() {
        let name = p["class"] as? String ?? "?"
        let confidence = (p["confidence"] as? NSNumber)?.doubleValue ?? 0
        let bar = String(repeating: "█", count: Int((confidence * 30).rounded()))
        print(
            "  \(i + 1). \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%6.2f%%", confidence * 100))  \(bar)")
    }
    if let wave = json["waveform"] as? [String: Any], let values = (wave["values"] as? [NSNumber])?.map(\.doubleValue), !values.isEmpty {
        let rms = (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
        print("Waveform:")
        print(
            "  \(values.count) points shown, \(wave["sample_rate"] ?? "?") Hz, \(String(format: "%.3f", (wave["duration"] as? NSNumber)?.doubleValue ?? 0)) s"
        )
        print(
            String(
                format: "  min %.4f  max %.4f  mean %.5f  rms %.4f", values.min()!, values.max()!,
                values.reduce(0, +) / Double(values.count), rms))
    }
    if let spec = json["input_spectrogram"] as? [String: Any], let shape = spec["shape"] as? [Int] {
        print("Input spectrogram: \(shape.map(String.init).joined(separator: " x ")) (mel bins x frames)")
    }
    if let maps = json["visualization"] as? [String: Any] {
        let shapes = maps.compactMap { name, value in ((value as? [String: Any])?["shape"] as? [Int]).map { "\(name) \($0[0])x\($0[1])" } }
        print("Feature maps: \(maps.count) (\(shapes.sorted().prefix(3).joined(separator: ", "))…)")
    }
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("ClassifyOverHTTP: \(error)\n".utf8))
    exit(1)
}
