import AudioClassification
import AudioDSP
import Foundation
import InferenceServer

/// libFuzzer entry point: the body of `POST /` as the server reads it (JSON, then base64, then
/// the audio decoder with the server's default limits). The model itself is not run: its input
/// is a spectrogram of finite values, which the decoder's checks already guarantee.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPredictRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    guard let audio = try? audioBytes(fromPredictRequestBody: body) else { return 0 }
    precondition(!audio.isEmpty)
    let defaults = ServerConfiguration()
    _ = try? AudioFile(
        data: audio, name: "request",
        limits: AudioDecodingLimits(maximumDuration: defaults.maximumAudioSeconds, maximumChannels: defaults.maximumChannels))
    return 0
}
