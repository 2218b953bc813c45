import Foundation
import _CSndFile

/// Reads an audio file a piece at a time, down-mixed to mono, so a recording of any length is
/// processed in constant memory (``AudioFile`` decodes a whole file at once).
///
/// Decoding goes through libsndfile as ``AudioFile`` does, with the same scaling and channel
/// averaging, so the concatenated pieces equal `AudioFile(contentsOf:).samples`.
///
/// ```swift
/// let reader = try AudioFileReader(contentsOf: url)
/// var piece: [Float] = []
/// while try reader.read(into: &piece, frames: 65_536) > 0 { ... ; piece.removeAll(keepingCapacity: true) }
/// ```
///
/// Not thread-safe: one reader belongs to one task at a time.
public final class AudioFileReader {
    /// Samples per second, in Hz.
    public let sampleRate: Int
    /// The number of channels in the file before down-mixing.
    public let sourceChannelCount: Int
    /// The frame count the header declares, or `nil` when the container does not say.
    public let declaredFrameCount: Int?
    private let handle: OpaquePointer
    private let name: String
    private var scratch: [Float] = []
    private var framesRead = 0

    /// Opens the audio file at `url` (any format libsndfile reads).
    /// - Throws: ``AudioFileError/unreadableFile(path:reason:)`` when the file cannot be opened,
    ///   ``AudioFileError/empty(source:)`` for a 0-byte file, ``AudioFileError/notAudio(source:reason:)``
    ///   when it is not audio, and the header errors of ``AudioFile``.
    public init(contentsOf url: URL) throws(AudioFileError) {
        name = url.path
        let size: Int
        do {
            size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw .unreadableFile(path: url.path, reason: (error as NSError).localizedDescription)
        }
        guard size > 0 else { throw .empty(source: url.path) }
        var info = SF_INFO()
        let (result, code, message) = SndFileOpening.open { sf_open(url.path, Int32(SFM_READ), &info) }
        guard let opened = result else {
            if code == Int(SF_ERR_UNRECOGNISED_FORMAT) { throw .notAudio(source: url.path, reason: message) }
            if code == Int(SF_ERR_SYSTEM) { throw .unreadableFile(path: url.path, reason: message) }
            throw .malformed(source: url.path, reason: message)
        }
        handle = opened
        guard info.channels > 0 else {
            sf_close(opened)
            throw .zeroChannels(source: url.path)
        }
        guard AudioFile.supportedSampleRates.contains(Int(info.samplerate)) else {
            sf_close(opened)
            throw .unsupportedSampleRate(source: url.path, sampleRate: Int(info.samplerate))
        }
        sampleRate = Int(info.samplerate)
        sourceChannelCount = Int(info.channels)
        declaredFrameCount = (info.frames >= 0 && info.frames < Int64.max) ? Int(info.frames) : nil
    }

    deinit { sf_close(handle) }

    /// The declared length in seconds, or `nil` when the container does not say.
    public var declaredDuration: Double? { declaredFrameCount.map { Double($0) / Double(sampleRate) } }

    /// Decodes up to `frames` more frames, appends them to `buffer` as mono samples and returns
    /// how many it appended: 0 at the end of the file. The interleaved scratch stays small
    /// whatever the channel count (frames are decoded in pieces of at most 65,536 samples).
    /// - Throws: ``AudioFileError/decodingFailed(source:reason:)`` when libsndfile reports an error,
    ///   ``AudioFileError/truncated(source:expectedFrames:decodedFrames:)`` when the file ends
    ///   before the length its header declares (as ``AudioFile`` reports it).
    @discardableResult
    public func read(into buffer: inout [Float], frames: Int) throws(AudioFileError) -> Int {
        let channels = sourceChannelCount
        let piece = max(1, SndFileDecoder.chunkSamples / channels)
        if scratch.count < piece * channels { scratch = [Float](repeating: 0, count: piece * channels) }
        var total = 0
        while total < frames {
            let got = scratch.withUnsafeMutableBufferPointer { buf in
                Int(sf_readf_float(handle, buf.baseAddress, sf_count_t(min(piece, frames - total))))
            }
            if got <= 0 {
                try checkEnd()
                break
            }
            scratch.withUnsafeBufferPointer { SndFileDecoder.appendMono($0, frames: got, channels: channels, to: &buffer) }
            total += got
            framesRead += got
        }
        return total
    }

    /// At the end of the stream: a decoding error, or fewer frames than the header declared.
    private func checkEnd() throws(AudioFileError) {
        if sf_error(handle) != 0 {
            throw .decodingFailed(source: name, reason: String(cString: sf_strerror(handle)))
        }
        if let declaredFrameCount, framesRead < declaredFrameCount {
            throw .truncated(source: name, expectedFrames: declaredFrameCount, decodedFrames: framesRead)
        }
        if let declared = SndFileDecoder.declaredFramesIfCut(handle: handle, decodedFrames: framesRead) {
            throw .truncated(source: name, expectedFrames: declared, decodedFrames: framesRead)
        }
    }
}
