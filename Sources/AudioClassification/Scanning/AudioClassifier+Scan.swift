import AudioDSP
import Foundation
import TensorKit

extension AudioClassifier {
    /// Classifies sliding windows of the audio file at `url`, reading it a piece at a time so
    /// memory does not grow with its length, and batching windows for speed.
    ///
    /// Windows of `options.window` seconds start every `options.hop` seconds from 0. When the
    /// last of them stops short of the end, one more window is aligned to the end, so the whole
    /// recording is covered and every window has the same length; a recording shorter than one
    /// window is one window, classified as ``predict(contentsOf:top:)`` classifies it. Each
    /// window is resampled on its own, so its probabilities are those of the same samples cut out
    /// and passed to ``predict(samples:sampleRate:top:)``. ``maximumDuration`` does not apply.
    ///
    /// ```swift
    /// let result = try classifier.scan(contentsOf: URL(fileURLWithPath: "field.flac"))
    /// for event in result.events(minimumConfidence: 0.5, merge: true) {
    ///     print(event.start, event.end, event.className, event.confidence)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - url: an audio file in any format libsndfile reads.
    ///   - options: window, hop and batch size.
    ///   - progress: called after each piece read with the seconds read so far and the declared
    ///     length (`nil` when the container does not say).
    /// - Throws: ``InferenceError`` naming what is wrong: a missing file, a directory or special
    ///   file, an empty or undecodable one, invalid options, non-finite samples.
    public func scan(
        contentsOf url: URL, options: ScanOptions = ScanOptions(),
        progress: ((_ seconds: Double, _ total: Double?) -> Void)? = nil
    ) throws(InferenceError) -> ScanResult {
        try checkReadable(url)
        let reader: AudioFileReader
        do {
            reader = try AudioFileReader(contentsOf: url)
        } catch {
            throw .invalidAudio(error)
        }
        var windows = try WindowScanner(classifier: self, sampleRate: reader.sampleRate, options: options)
        var piece: [Float] = []
        let pieceFrames = max(windows.hopFrames, 8192)
        while true {
            piece.removeAll(keepingCapacity: true)
            let count: Int
            do {
                count = try reader.read(into: &piece, frames: pieceFrames)
            } catch {
                throw .invalidAudio(error)
            }
            if count == 0 { break }
            try windows.feed(piece)
            progress?(windows.secondsRead, reader.declaredDuration)
        }
        if windows.framesRead == 0 { throw .audioTooShort(samples: 0, minimum: mel.stft.minimumSampleCount) }
        return try windows.finish()
    }

    /// ``scan(contentsOf:options:progress:)`` of the audio file in `data` (any format libsndfile
    /// reads), decoded whole with the duration (at most ``maximumDuration``) and channel limits
    /// checked against its header first: for uploads.
    public func scan(
        _ data: Data, name: String = "audio data", options: ScanOptions = ScanOptions(),
        maximumDuration: Double? = nil, maximumChannels: Int? = nil
    ) throws(InferenceError) -> ScanResult {
        let clip = try decode(data, name: name, maximumDuration: maximumDuration, maximumChannels: maximumChannels)
        return try scan(samples: clip.samples, sampleRate: clip.sampleRate, options: options)
    }

    /// ``scan(contentsOf:options:progress:)`` of mono `samples` at `sampleRate` Hz in memory.
    public func scan(samples: [Float], sampleRate: Int, options: ScanOptions = ScanOptions()) throws(InferenceError) -> ScanResult {
        guard !samples.isEmpty else { throw .invalidAudio(.empty(source: "samples")) }
        var windows = try WindowScanner(classifier: self, sampleRate: sampleRate, options: options)
        try windows.feed(samples)
        return try windows.finish()
    }

    /// The softmax of each row of `[batch, classes]` logits.
    func probabilityRows(_ logits: Tensor) -> [[Float]] {
        let n = classes.count
        let scalars = logits.scalars
        return (0..<logits.shape[0]).map { softmax(scalars[$0 * n..<($0 + 1) * n]) }
    }
}

/// Cuts a stream of mono samples into windows and classifies them in batches.
struct WindowScanner {
    let classifier: AudioClassifier
    let sampleRate: Int
    let windowFrames: Int
    let hopFrames: Int
    let batchSize: Int
    let resampler: Resampler?

    /// Samples from absolute frame `bufferStart` on.
    private var buffer: [Float] = []
    private var bufferStart = 0
    private(set) var framesRead = 0
    /// The start of the next regular window.
    private var nextStart = 0
    private var lastEnd = 0
    private var pending: [(start: Int, end: Int, spectrogram: Spectrogram)] = []
    private var results: [WindowPrediction] = []

    init(classifier: AudioClassifier, sampleRate: Int, options: ScanOptions) throws(InferenceError) {
        guard options.window.isFinite, options.window > 0 else {
            throw .invalidScanOptions("the window is \(options.window) s; it must be a positive number of seconds")
        }
        guard options.hop.isFinite, options.hop > 0 else {
            throw .invalidScanOptions("the hop is \(options.hop) s; it must be a positive number of seconds")
        }
        guard options.batchSize >= 1 else {
            throw .invalidScanOptions("the batch size is \(options.batchSize); it must be at least 1")
        }
        guard sampleRate > 0 else { throw .invalidAudio(.unsupportedSampleRate(source: "samples", sampleRate: sampleRate)) }
        self.classifier = classifier
        self.sampleRate = sampleRate
        windowFrames = max(1, Int((options.window * Double(sampleRate)).rounded()))
        hopFrames = max(1, Int((options.hop * Double(sampleRate)).rounded()))
        batchSize = options.batchSize
        if sampleRate != classifier.melConfig.sampleRate {
            do {
                resampler = try Resampler(from: sampleRate, to: classifier.melConfig.sampleRate)
            } catch {
                throw .frontEnd("\(error)")
            }
        } else {
            resampler = nil
        }
    }

    var secondsRead: Double { Double(framesRead) / Double(sampleRate) }

    /// Takes the next samples of the stream and classifies every window they complete.
    mutating func feed(_ samples: [Float]) throws(InferenceError) {
        buffer += samples
        framesRead += samples.count
        while nextStart + windowFrames <= framesRead {
            try add(start: nextStart, end: nextStart + windowFrames)
            nextStart += hopFrames
        }
        // Keep what the next window, or a final end-aligned one, may still need.
        let keepFrom = min(nextStart, max(0, framesRead - windowFrames))
        if keepFrom > bufferStart {
            buffer.removeFirst(keepFrom - bufferStart)
            bufferStart = keepFrom
        }
    }

    /// Classifies the last window (end-aligned, or the whole stream when shorter than a
    /// window) and returns every window.
    mutating func finish() throws(InferenceError) -> ScanResult {
        if results.isEmpty && pending.isEmpty {
            try add(start: 0, end: framesRead)
        } else if lastEnd < framesRead {
            try add(start: framesRead - windowFrames, end: framesRead)
        }
        try flush()
        return ScanResult(classes: classifier.classes, duration: secondsRead, windows: results)
    }

    private mutating func add(start: Int, end: Int) throws(InferenceError) {
        let window = Array(buffer[(start - bufferStart)..<(end - bufferStart)])
        let prepared = try classifier.prepare(samples: window, sampleRate: sampleRate, resampler: resampler)
        if let first = pending.first, first.spectrogram.frameCount != prepared.spectrogram.frameCount { try flush() }
        pending.append((start, end, prepared.spectrogram))
        lastEnd = end
        if pending.count == batchSize { try flush() }
    }

    /// Classifies the pending windows in one forward pass.
    private mutating func flush() throws(InferenceError) {
        guard let first = pending.first else { return }
        let (mels, frames) = (first.spectrogram.rowCount, first.spectrogram.frameCount)
        var input = [Float]()
        input.reserveCapacity(pending.count * mels * frames)
        for window in pending { input += window.spectrogram.values }
        let tensor = try! Tensor(shape: [pending.count, 1, mels, frames], scalars: input)  // shape matches by construction
        let logits = classifier.withPrecision { withNoGrad { classifier.model(tensor) } }
        let rate = Double(sampleRate)
        for (window, probabilities) in zip(pending, classifier.probabilityRows(logits)) {
            results.append(
                WindowPrediction(start: Double(window.start) / rate, end: Double(window.end) / rate, probabilities: probabilities))
        }
        pending.removeAll(keepingCapacity: true)
    }
}
