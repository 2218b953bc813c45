// AudioClassification alone: classify real ESC-50 clips in process with a checkpoint exported
// from PyTorch, check every class probability against PyTorch's (within 2e-3), and print the
// top 3 per clip as `audiocnn predict --json` does, so CI can compare the two.
//   ClassifyConsumer CHECKPOINT.safetensors REFERENCE.json ESC50_AUDIO_DIR
// REFERENCE.json: Tests/Fixtures/AudioClassification/esc50_probabilities.json.
import AudioClassification
import Foundation

struct Reference: Decodable {
    struct Clip: Decodable {
        var file: String
        var probabilities: [Float]
    }
    var classes: [String]
    var clips: [Clip]
}

struct Line: Encodable {
    struct Entry: Encodable {
        var `class`: String
        var confidence: Float
    }
    var file: String
    var predictions: [Entry]
}

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: ClassifyConsumer CHECKPOINT REFERENCE.json ESC50_AUDIO_DIR\n".utf8))
    exit(2)
}
do {
    let classifier = try AudioClassifier(checkpoint: URL(fileURLWithPath: arguments[1]))
    let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: arguments[2])))
    var worst: Float = 0
    for clip in reference.clips {
        let path = URL(fileURLWithPath: arguments[3]).appendingPathComponent(clip.file).path
        let all = try classifier.predict(contentsOf: URL(fileURLWithPath: path), top: classifier.classes.count)
        for p in all {
            guard let i = reference.classes.firstIndex(of: p.className) else { throw CocoaError(.coderValueNotFound) }
            worst = max(worst, abs(p.confidence - clip.probabilities[i]))
        }
        let line = Line(file: path, predictions: all.prefix(3).map { .init(class: $0.className, confidence: $0.confidence) })
        print(String(decoding: try JSONEncoder().encode(line), as: UTF8.self))
    }
    FileHandle.standardError.write(
        Data("ClassifyConsumer: \(reference.clips.count) clips, largest difference from PyTorch's probabilities \(worst)\n".utf8))
    exit(worst <= 2e-3 ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("ClassifyConsumer: \(error)\n".utf8))
    exit(1)
}
