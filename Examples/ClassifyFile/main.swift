// ClassifyFile: classify audio files in process with the AudioClassification library, no
// server involved.
//
//   swift run -c release ClassifyFile model.safetensors dog.wav [more files...]
//
// It imports only AudioClassification: the library decodes the file, computes the log-Mel
// spectrogram the checkpoint was trained with, runs the model and returns the top classes.
// (`Examples/ClassifyOverHTTP` does the same through a running `audiocnn serve`.)
import AudioClassification
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: ClassifyFile CHECKPOINT.safetensors AUDIO_FILE...\n".utf8))
    exit(2)
}
do {
    let classifier = try AudioClassifier(checkpoint: URL(fileURLWithPath: arguments[0]))
    var failed = false
    for path in arguments.dropFirst() {
        do {
            let predictions = try classifier.predict(contentsOf: URL(fileURLWithPath: path), top: 3)
            print(path)
            for p in predictions {
                print("  \(p.className)  \(String(format: "%.1f%%", Double(p.confidence) * 100))")
            }
        } catch {
            FileHandle.standardError.write(Data("ClassifyFile: \(error)\n".utf8))
            failed = true
        }
    }
    exit(failed ? 1 : 0)
} catch {
    FileHandle.standardError.write(Data("ClassifyFile: \(error)\n".utf8))
    exit(1)
}
