import AudioDSP
import Foundation

/// libFuzzer entry point: decode the input as an audio file from memory (libsndfile virtual
/// I/O), with the limits `audiocnn serve` applies. Any crash, hang or out-of-memory is a bug;
/// a thrown `AudioFileError` is the expected outcome for garbage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudioDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    if let clip = try? AudioFile(data: bytes, name: "fuzz", limits: AudioDecodingLimits(maximumDuration: 600, maximumChannels: 1_024)) {
        precondition(clip.sourceChannelCount >= 1 && AudioFile.supportedSampleRates.contains(clip.sampleRate))
    }
    return 0
}
