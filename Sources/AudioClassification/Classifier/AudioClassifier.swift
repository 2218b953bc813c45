import AudioDSP
import Foundation
import ResNetAudio
import TensorKit

/// Classifies audio clips with an `AudioCNN` checkpoint, in process: decode, down-mix, resample
/// to the checkpoint's Mel rate, log-Mel, forward pass, softmax.
///
/// ```swift
/// import AudioClassification
///
/// let classifier = try AudioClassifier(checkpoint: URL(fileURLWithPath: "model.safetensors"))
/// for p in try classifier.predict(contentsOf: URL(fileURLWithPath: "dog.wav"), top: 3) {
///     print(p.className, p.confidence)
/// }
/// ```
///
/// This is the one inference path of the suite: `audiocnn predict` and `POST /` of
/// `audiocnn serve` both call it, so they give the same probabilities for the same bytes.
/// Like the reference service, clips are not padded or cropped: the network's global pooling
/// takes any length. Everything runs in float32 with TensorKit's current `KernelConfiguration`,
/// except that the convolutions and the linear layer take their operands at ``precision``.
///
/// ```swift
/// // bfloat16 operands, float32 sums: for CPUs with AVX512_BF16
/// let fast = try AudioClassifier(checkpoint: url, precision: .bfloat16)
/// ```
///
/// Thread safety: synchronous, callable from any thread without `await`. The model is in
/// evaluation mode and only read after loading, so one classifier may serve many threads at
/// once (each call already spreads its work over every core).
public final class AudioClassifier: @unchecked Sendable {
    /// Class names in logit order.
    public let classes: [String]
    /// The front-end the checkpoint was trained with.
    public let melConfig: MelConfig
    /// The model's configuration.
    public let modelConfig: AudioCNNConfig
    /// Longest clip accepted, in seconds (before resampling).
    public let maximumDuration: Double

    /// The number format of the operands of the forward pass's convolution and linear GEMMs:
    /// TensorKit's `KernelConfiguration.Precision`, named here so that callers need not import
    /// TensorKit: `.float32` (PyTorch's float32 results) or `.bfloat16` (operands rounded to
    /// bfloat16, products summed in float32, as `torch.autocast` on the CPU).
    public typealias Precision = KernelConfiguration.Precision

    /// The operand precision of every forward pass of this classifier (``predict(_:name:top:)``,
    /// ``analyze(_:name:top:maximumDuration:maximumChannels:segment:)``,
    /// ``scan(contentsOf:options:progress:)`` and their other forms), whatever the caller's
    /// TensorKit configuration (including `TENSORKIT_PRECISION`) says; every other kernel choice
    /// (kernel set, threads, Winograd) is the caller's current one.
    ///
    /// `.bfloat16` is meant for CPUs with AVX512_BF16 (`KernelConfiguration.isBFloat16Available`),
    /// which multiply bfloat16 at twice float32's rate; elsewhere TensorKit emulates it, with the
    /// same results, more slowly than `.float32`. The front end (decoding, resampling, log-Mel) and
    /// the softmax stay float32 either way.
    public let precision: Precision
    let model: AudioCNN
    let mel: MelSpectrogram

    /// Loads the checkpoint at `url` (see Docs/Checkpoints.md).
    ///
    /// - Parameters:
    ///   - url: a safetensors checkpoint written by `audiocnn train` or exported from PyTorch
    ///     (`Scripts/export_pytorch_checkpoint.py`).
    ///   - maximumDuration: clips longer than this many seconds are refused.
    ///   - precision: the operand precision of the forward passes (``precision``).
    /// - Throws: ``InferenceError/checkpoint(_:)`` naming the file and the problem.
    public convenience init(checkpoint url: URL, maximumDuration: Double = 60, precision: Precision = .float32) throws(InferenceError) {
        let loaded: (model: AudioCNN, metadata: CheckpointMetadata)
        do {
            loaded = try Checkpoint.load(from: url)
        } catch {
            throw .checkpoint("\(error)")
        }
        var config = MelConfig()
        if let json = loaded.metadata.melConfigJSON {
            do {
                config = try JSONDecoder().decode(MelConfig.self, from: Data(json.utf8))
            } catch {
                throw .checkpoint("\(url.path): mel_config is not a valid MelConfig: \(error)")
            }
        }
        try self.init(
            model: loaded.model, classes: loaded.metadata.classes, melConfig: config,
            maximumDuration: maximumDuration, precision: precision)
    }

    /// Wraps a model already in memory; puts it in evaluation mode.
    ///
    /// `precision` is the operand precision of the forward passes (``precision``).
    ///
    /// - Throws: ``InferenceError/checkpoint(_:)`` when `classes` does not match the model's
    ///   output count or `melConfig` is invalid.
    public init(
        model: AudioCNN, classes: [String], melConfig: MelConfig = MelConfig(),
        maximumDuration: Double = 60, precision: Precision = .float32
    ) throws(InferenceError) {
        guard classes.count == model.config.numClasses else {
            throw .checkpoint("\(classes.count) class names for a model with \(model.config.numClasses) outputs")
        }
        guard maximumDuration > 0 else { throw .checkpoint("maximum duration \(maximumDuration) s must be positive") }
        do {
            mel = try MelSpectrogram(melConfig)
        } catch {
            throw .checkpoint("invalid Mel configuration: \(error)")
        }
        model.eval()
        self.model = model
        self.classes = classes
        self.melConfig = melConfig
        self.modelConfig = model.config
        self.maximumDuration = maximumDuration
        self.precision = precision
    }

    /// Runs `body`, a forward pass, with ``precision`` as TensorKit's operand precision (on its
    /// worker threads too).
    func withPrecision<R>(_ body: () throws -> R) rethrows -> R {
        let precision = self.precision
        return try KernelConfiguration.withCurrent(changing: { $0.precision = precision }, body)
    }

    /// The mono signal at ``melConfig``'s rate and its log-Mel spectrogram.
    struct Prepared {
        var samples: [Float]
        var spectrogram: Spectrogram
    }

    /// Decodes `data` (any format libsndfile reads) and prepares it with ``prepare(_:)-(AudioFile)``.
    ///
    /// The duration and channel limits are checked against the header before decoding, so a
    /// small compressed upload cannot expand to gigabytes of samples.
    func prepare(
        _ data: Data, name: String = "audio data", maximumDuration limit: Double? = nil,
        maximumChannels: Int? = nil
    ) throws(InferenceError) -> Prepared {
        try prepare(decode(data, name: name, maximumDuration: limit, maximumChannels: maximumChannels))
    }

    /// Decodes `data` with the duration (at most ``maximumDuration``) and channel limits checked
    /// against the header before any sample is decoded.
    func decode(_ data: Data, name: String, maximumDuration limit: Double?, maximumChannels: Int?) throws(InferenceError) -> AudioFile {
        let maximumDuration = min(limit ?? self.maximumDuration, self.maximumDuration)
        let clip: AudioFile
        do throws(AudioFileError) {
            clip = try AudioFile(
                data: data, name: name,
                limits: AudioDecodingLimits(maximumDuration: maximumDuration, maximumChannels: maximumChannels))
        } catch .tooLong(_, let seconds, let limit) {
            throw .audioTooLong(seconds: seconds, limit: limit)
        } catch .tooManyChannels(_, let channels, let limit) {
            throw .tooManyChannels(channels: channels, limit: limit)
        } catch {
            throw .invalidAudio(error)
        }
        guard clip.duration <= maximumDuration else { throw .audioTooLong(seconds: clip.duration, limit: maximumDuration) }
        return clip
    }

    /// Checks the decoded mono `clip`, resamples it to the Mel rate and computes its log-Mel
    /// spectrogram.
    func prepare(_ clip: AudioFile) throws(InferenceError) -> Prepared {
        guard clip.duration <= maximumDuration else { throw .audioTooLong(seconds: clip.duration, limit: maximumDuration) }
        return try prepare(samples: clip.samples, sampleRate: clip.sampleRate, resampler: nil)
    }

    /// Checks mono `samples` at `sampleRate` (finite, long enough for one frame), resamples them
    /// to the Mel rate (with `resampler` when given, built for that conversion) and computes
    /// their log-Mel spectrogram. No duration limit: windows of a long recording come here.
    func prepare(samples: [Float], sampleRate: Int, resampler: Resampler?) throws(InferenceError) -> Prepared {
        let nonFinite = samples.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard nonFinite == 0 else { throw .nonFiniteSamples(count: nonFinite) }
        var samples = samples
        do {
            if sampleRate != melConfig.sampleRate {
                samples = try (resampler ?? Resampler(from: sampleRate, to: melConfig.sampleRate))(samples)
            }
            guard samples.count >= mel.stft.minimumSampleCount else {
                throw InferenceError.audioTooShort(samples: samples.count, minimum: mel.stft.minimumSampleCount)
            }
            return Prepared(samples: samples, spectrogram: try mel.logMel(samples))
        } catch let error as InferenceError {
            throw error
        } catch {
            throw .frontEnd("\(error)")
        }
    }

    /// Reads the file at `url`, with errors that say what is wrong with the path.
    private func read(_ url: URL) throws(InferenceError) -> Data {
        try checkReadable(url)
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .invalidAudio(.unreadableFile(path: url.path, reason: (error as NSError).localizedDescription))
        }
    }

    /// Throws an error that says exactly what is wrong when `url` is missing, a directory or a
    /// special file (device, pipe, socket); symbolic links are followed.
    func checkReadable(_ url: URL) throws(InferenceError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .invalidAudio(.unreadableFile(path: url.path, reason: "no such file"))
        }
        guard !isDirectory.boolValue else {
            throw .invalidAudio(.unreadableFile(path: url.path, reason: "it is a directory, not an audio file"))
        }
        // Of the file itself: attributesOfItem does not follow a symbolic link.
        let target = url.resolvingSymlinksInPath().path
        let type = (try? FileManager.default.attributesOfItem(atPath: target))?[.type] as? FileAttributeType
        guard type == nil || type == .typeRegular else {
            throw .invalidAudio(.unreadableFile(path: url.path, reason: "it is a special file (device, pipe or socket), not an audio file"))
        }
    }

    /// A mono clip of `samples` at `sampleRate`, checked like a decoded file.
    private func clip(samples: [Float], sampleRate: Int) throws(InferenceError) -> AudioFile {
        guard sampleRate > 0 else {
            throw .invalidAudio(.unsupportedSampleRate(source: "samples", sampleRate: sampleRate))
        }
        guard !samples.isEmpty else { throw .invalidAudio(.empty(source: "samples")) }
        return AudioFile(samples: samples, sampleRate: sampleRate)
    }

    /// The `top` most probable classes for the audio file in `data`, most probable first.
    ///
    /// - Parameters:
    ///   - data: the complete bytes of an audio file in any format libsndfile reads.
    ///   - name: how error messages refer to the input.
    ///   - top: how many classes to return (at most the number of classes).
    /// - Throws: ``InferenceError`` when the bytes are not audio, too short or too long, or hold
    ///   non-finite samples.
    public func predict(_ data: Data, name: String = "audio data", top: Int = 3) throws(InferenceError) -> [Prediction] {
        guard top >= 1 else { throw .invalidTop(top) }
        return predictions(for: try prepare(data, name: name), top: top)
    }

    /// The `top` most probable classes for the audio file at `url`, most probable first.
    /// - Throws: ``InferenceError/invalidAudio(_:)`` with `unreadableFile` naming the path when
    ///   it is missing, a directory or unreadable; otherwise as ``predict(_:name:top:)``.
    public func predict(contentsOf url: URL, top: Int = 3) throws(InferenceError) -> [Prediction] {
        guard top >= 1 else { throw .invalidTop(top) }
        return try predict(read(url), name: url.path, top: top)
    }

    /// The `top` most probable classes for mono `samples` at `sampleRate` Hz (nominally in
    /// [-1, 1]; resampled to the checkpoint's rate when it differs), most probable first.
    /// - Throws: ``InferenceError`` when there are no samples, too few for one frame, too many
    ///   for ``maximumDuration``, or non-finite ones, or `sampleRate` is not positive.
    public func predict(samples: [Float], sampleRate: Int, top: Int = 3) throws(InferenceError) -> [Prediction] {
        guard top >= 1 else { throw .invalidTop(top) }
        return predictions(for: try prepare(clip(samples: samples, sampleRate: sampleRate)), top: top)
    }

    /// Predictions, every feature map's channel mean, the input spectrogram and the thinned
    /// waveform for the audio file in `data`: the content of the API's `POST /` response.
    ///
    /// - Parameters:
    ///   - data: the complete bytes of an audio file in any format libsndfile reads.
    ///   - name: how error messages refer to the input.
    ///   - top: how many classes to return.
    ///   - maximumDuration: a tighter limit than ``maximumDuration`` for this call, in seconds.
    ///   - maximumChannels: the most channels accepted, or `nil` for no limit.
    ///   - segment: analyse only these seconds of the audio (cut at its own rate, then resampled
    ///     alone, as ``scan(contentsOf:options:progress:)`` treats a window); `nil` for all of it.
    /// - Throws: ``InferenceError`` when the bytes are not audio, too short or too long, have
    ///   too many channels or non-finite samples, or `segment` is not inside the audio.
    public func analyze(
        _ data: Data, name: String = "audio data", top: Int = 3,
        maximumDuration: Double? = nil, maximumChannels: Int? = nil, segment: Range<Double>? = nil
    ) throws(InferenceError) -> Analysis {
        guard top >= 1 else { throw .invalidTop(top) }
        let clip = try decode(data, name: name, maximumDuration: maximumDuration, maximumChannels: maximumChannels)
        guard let segment else { return analysis(of: try prepare(clip), top: top) }
        let rate = Double(clip.sampleRate)
        guard segment.lowerBound.isFinite, segment.upperBound.isFinite, segment.lowerBound >= 0, segment.lowerBound < clip.duration,
            !segment.isEmpty
        else {
            throw .invalidSegment(
                "the segment \(formatSeconds(segment.lowerBound))-\(formatSeconds(segment.upperBound)) s is not inside the audio's \(formatSeconds(clip.duration)) s"
            )
        }
        let from = Int((segment.lowerBound * rate).rounded()), to = min(clip.samples.count, Int((segment.upperBound * rate).rounded()))
        return analysis(
            of: try prepare(samples: Array(clip.samples[from..<max(from, to)]), sampleRate: clip.sampleRate, resampler: nil), top: top)
    }

    /// ``analyze(_:name:top:maximumDuration:maximumChannels:segment:)`` of the audio file at `url`.
    public func analyze(contentsOf url: URL, top: Int = 3) throws(InferenceError) -> Analysis {
        guard top >= 1 else { throw .invalidTop(top) }
        return try analyze(read(url), name: url.path, top: top)
    }

    /// ``analyze(_:name:top:maximumDuration:maximumChannels:segment:)`` of mono `samples` at `sampleRate` Hz.
    public func analyze(samples: [Float], sampleRate: Int, top: Int = 3) throws(InferenceError) -> Analysis {
        guard top >= 1 else { throw .invalidTop(top) }
        return analysis(of: try prepare(clip(samples: samples, sampleRate: sampleRate)), top: top)
    }

    private func predictions(for prepared: Prepared, top: Int) -> [Prediction] {
        let logits = withPrecision { withNoGrad { model(inputTensor(prepared.spectrogram)) } }
        return topPredictions(logits, top: top)
    }

    private func analysis(of prepared: Prepared, top: Int) -> Analysis {
        let (logits, maps) = withPrecision { withNoGrad { model.forwardWithFeatureMaps(inputTensor(prepared.spectrogram)) } }
        let spec = prepared.spectrogram
        return Analysis(
            predictions: topPredictions(logits, top: top),
            featureMaps: maps.entries.map { FeatureMapPlane(name: $0.name, plane: channelMean($0.tensor)) },
            inputSpectrogram: Plane(height: spec.rowCount, width: spec.frameCount, values: finite(spec.values)),
            waveform: WaveformSummary(
                values: thinned(prepared.samples), sampleRate: melConfig.sampleRate,
                duration: Double(prepared.samples.count) / Double(melConfig.sampleRate)))
    }

    private func inputTensor(_ spec: Spectrogram) -> Tensor {
        // The shape matches the values by construction.
        try! Tensor(shape: [1, 1, spec.rowCount, spec.frameCount], scalars: spec.values)
    }

    /// Softmax of the logits of item 0, top `k`, ties by lower index.
    func topPredictions(_ logits: Tensor, top: Int) -> [Prediction] {
        let probabilities = softmax(logits.scalars.prefix(classes.count))
        let order = probabilities.indices.sorted {
            probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1
        }
        return order.prefix(top).map { Prediction(className: classes[$0], confidence: probabilities[$0]) }
    }

    /// Softmax of one row of logits with NaN as 0 and infinities as ±Float.greatestFiniteMagnitude
    /// (torch.nan_to_num, as the reference does before its softmax), summed in double precision.
    func softmax(_ logits: some Collection<Float>) -> [Float] {
        var clean = logits.map { v -> Float in
            v.isNaN ? 0 : (v.isInfinite ? (v > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude) : v)
        }
        let peak = clean.max() ?? 0
        var total: Double = 0
        for i in clean.indices {
            let e = Float(exp(Double(clean[i] - peak)))
            clean[i] = e
            total += Double(e)
        }
        return clean.map { Float(Double($0) / total) }
    }

    /// Mean over channels of item 0 of `[batch, C, H, W]`, non-finite values as 0.
    func channelMean(_ t: Tensor) -> Plane {
        let s = t.shape
        let c = s[1], h = s[2], w = s[3], plane = h * w
        var out = [Float](repeating: 0, count: plane)
        t.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<c {
                    let p = src.baseAddress! + ch * plane
                    for i in 0..<plane { dst[i] += p[i] }
                }
                let scale = 1 / Float(c)
                for i in 0..<plane {
                    let v = dst[i] * scale
                    dst[i] = v.isFinite ? v : 0
                }
            }
        }
        return Plane(height: h, width: w, values: out)
    }

    private func finite(_ values: [Float]) -> [Float] {
        values.allSatisfy(\.isFinite) ? values : values.map { $0.isFinite ? $0 : 0 }
    }

    /// Every `count / 8000`-th sample when longer than 8,000 samples (the reference's `[::step]`).
    func thinned(_ samples: [Float]) -> [Float] {
        let limit = 8_000
        guard samples.count > limit else { return finite(samples) }
        let step = samples.count / limit
        return finite(stride(from: 0, to: samples.count, by: step).map { samples[$0] })
    }
}
