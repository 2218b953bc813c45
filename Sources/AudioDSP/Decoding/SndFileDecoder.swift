import Foundation
import _CSndFile

/// libsndfile over an in-memory byte buffer (its "virtual I/O" interface).
enum SndFileDecoder {
    /// Samples (frames x channels) decoded per `sf_readf_float` call: the interleaved scratch
    /// stays this small whatever the channel count or the (possibly lying) frame count.
    static let chunkSamples = 65_536
    /// The most frames reserved up front from a header's claim; longer clips grow the array as
    /// they decode, so a header promising 2^36 frames over a few bytes allocates nothing big.
    static let maximumReservedFrames = 1 << 22

    static func decode(
        _ bytes: UnsafeRawBufferPointer, name: String,
        limits: AudioDecodingLimits = .none
    ) throws(AudioFileError) -> AudioFile {
        let stream = MemoryStream(bytes)
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemoryStream.from(user).length },
            seek: { offset, whence, user in MemoryStream.from(user).seek(offset, whence) },
            read: { dst, count, user in MemoryStream.from(user).read(into: dst, count: count) },
            write: { _, _, _ in 0 },
            tell: { user in MemoryStream.from(user).position }
        )
        var info = SF_INFO()
        let (opened, code, message) = withExtendedLifetime(stream) {
            SndFileOpening.open {
                sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(stream).toOpaque())
            }
        }
        guard let handle = opened else {
            throw openError(name: name, bytes: bytes, code: code, message: message)
        }
        defer { sf_close(handle) }

        guard info.channels > 0 else { throw .zeroChannels(source: name) }
        if let limit = limits.maximumChannels, Int(info.channels) > limit {
            throw .tooManyChannels(source: name, channels: Int(info.channels), limit: limit)
        }
        guard AudioFile.supportedSampleRates.contains(Int(info.samplerate)) else {
            throw .unsupportedSampleRate(source: name, sampleRate: Int(info.samplerate))
        }
        let channels = Int(info.channels)
        let rate = Double(info.samplerate)
        // libsndfile reports SF_COUNT_MAX when the container does not say how long it is.
        let declaredFrames: Int? = (info.frames >= 0 && info.frames < Int64.max) ? Int(info.frames) : nil
        // Frames beyond this many exceed the duration limit.
        var frameLimit = Int.max
        if let seconds = limits.maximumDuration {
            if let declaredFrames, Double(declaredFrames) / rate > seconds {
                throw .tooLong(source: name, seconds: Double(declaredFrames) / rate, limit: seconds)
            }
            frameLimit = Int(min(Double(Int.max / 2), (seconds * rate).rounded(.down)))
        }

        var mono = [Float]()
        mono.reserveCapacity(min(declaredFrames ?? 0, maximumReservedFrames, frameLimit))
        let chunkFrames = max(1, chunkSamples / channels)
        var scratch = [Float](repeating: 0, count: chunkFrames * channels)
        while true {
            let got = scratch.withUnsafeMutableBufferPointer { buf in
                Int(sf_readf_float(handle, buf.baseAddress, sf_count_t(chunkFrames)))
            }
            if got <= 0 { break }
            scratch.withUnsafeBufferPointer { appendMono($0, frames: got, channels: channels, to: &mono) }
            if mono.count > frameLimit, let seconds = limits.maximumDuration {
                // A header that did not say (or lied about) its length: stop at the limit.
                throw .tooLong(source: name, seconds: Double(mono.count) / rate, limit: seconds)
            }
        }
        let status = sf_error(handle)
        if status != 0 && mono.isEmpty {
            throw .decodingFailed(source: name, reason: String(cString: sf_strerror(handle)))
        }
        if let declaredFrames, mono.count < declaredFrames {
            throw .truncated(source: name, expectedFrames: declaredFrames, decodedFrames: mono.count)
        }
        if status != 0 {
            throw .decodingFailed(source: name, reason: String(cString: sf_strerror(handle)))
        }
        if let declared = declaredFramesIfCut(handle: handle, decodedFrames: mono.count) {
            throw .truncated(source: name, expectedFrames: declared, decodedFrames: mono.count)
        }
        return AudioFile(samples: mono, sampleRate: Int(info.samplerate), sourceChannelCount: channels)
    }

    /// Appends the average of the channels of each of `frames` interleaved frames to `mono`.
    static func appendMono(_ interleaved: UnsafeBufferPointer<Float>, frames: Int, channels: Int, to mono: inout [Float]) {
        if channels == 1 {
            mono.append(contentsOf: interleaved[0..<frames])
            return
        }
        let scale = 1 / Float(channels)
        for frame in 0..<frames {
            var sum: Float = 0
            let base = frame * channels
            for c in 0..<channels { sum += interleaved[base + c] }
            mono.append(sum * scale)
        }
    }

    /// Maps a failed `sf_open_virtual` (libsndfile's error `code` and `message`) to the most
    /// specific error.
    private static func openError(name: String, bytes: UnsafeRawBufferPointer, code: Int, message: String) -> AudioFileError {
        if message.lowercased().contains("channel count is zero") { return .zeroChannels(source: name) }
        // libsndfile rejects a zero or overflowing rate with a generic "SF_INFO incomplete";
        // read the rate from the header ourselves so the error can name it.
        if let rate = WAVHeader.declaredSampleRate(in: bytes), !AudioFile.supportedSampleRates.contains(rate) {
            return .unsupportedSampleRate(source: name, sampleRate: rate)
        }
        if code == Int(SF_ERR_UNRECOGNISED_FORMAT) { return .notAudio(source: name, reason: message) }
        return .malformed(source: name, reason: message)
    }

    /// WAV/AIFF readers silently shorten a data chunk that runs past the end of the bytes and
    /// only note it in the log (`data : 88200 (should be 44078)`); a cut-off download must not
    /// pass for a shorter clip. Returns the frame count the header declared, if it was cut.
    static func declaredFramesIfCut(handle: OpaquePointer, decodedFrames: Int) -> Int? {
        var log = [CChar](repeating: 0, count: 8192)
        _ = sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("data :") || trimmed.hasPrefix("SSND :"),
                let should = trimmed.range(of: "(should be ")
            else { continue }
            let declared = Double(
                trimmed[trimmed.index(trimmed.startIndex, offsetBy: 6)..<should.lowerBound]
                    .trimmingCharacters(in: .whitespaces))
            let actual = Double(trimmed[should.upperBound...].prefix { $0.isNumber })
            // AIFF's SSND chunk starts with 8 bytes (offset, block size) before the samples.
            let preamble = trimmed.hasPrefix("SSND") ? 8.0 : 0
            guard let declared, let actual, actual > preamble, declared > actual else { continue }
            return Int((Double(decodedFrames) * (declared - preamble) / (actual - preamble)).rounded())
        }
        return nil
    }
}

/// The read cursor that libsndfile's virtual I/O callbacks move over borrowed bytes.
private final class MemoryStream {
    let base: UnsafeRawPointer?
    let length: sf_count_t
    var position: sf_count_t = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress
        length = sf_count_t(bytes.count)
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> MemoryStream {
        Unmanaged<MemoryStream>.fromOpaque(pointer!).takeUnretainedValue()
    }

    func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        // Offsets come from header fields (64-bit chunk sizes in RF64, W64, CAF): a corrupt
        // file can ask for a position that overflows, which must fail, not trap.
        let target: sf_count_t
        let overflow: Bool
        switch whence {
        case SEEK_SET: (target, overflow) = (offset, false)
        case SEEK_CUR: (target, overflow) = position.addingReportingOverflow(offset)
        case SEEK_END: (target, overflow) = length.addingReportingOverflow(offset)
        default: return -1
        }
        guard !overflow, target >= 0 else { return -1 }
        position = target
        return position
    }

    func read(into destination: UnsafeMutableRawPointer?, count: sf_count_t) -> sf_count_t {
        guard let destination, let base, count > 0, position < length else { return 0 }
        let n = min(count, length - position)
        destination.copyMemory(from: base + Int(position), byteCount: Int(n))
        position += n
        return n
    }
}
