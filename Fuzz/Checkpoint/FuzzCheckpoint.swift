import Foundation
import ResNetAudio

/// The loader reads files (it maps them), so each input is written to one file in /dev/shm.
private let path: String = {
    let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(directory)/audiocnn-fuzz-checkpoint-\(getpid()).safetensors"
}()

/// libFuzzer entry point: load the input as an AudioCNN checkpoint (safetensors header,
/// metadata JSON, model construction, weights). A `CheckpointError` is the expected outcome
/// for garbage; a crash, hang or runaway allocation is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size)) else {
        fatalError("cannot write \(path)")
    }
    if let (model, metadata) = try? Checkpoint.load(from: URL(fileURLWithPath: path)) {
        precondition(metadata.classes.count == model.config.numClasses)
    }
    return 0
}
