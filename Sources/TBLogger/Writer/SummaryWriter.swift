import _Locking
import Foundation

/// Writes TensorBoard event files: scalars, scalar groups, histograms, images, text and
/// hyper-parameters, laid out as `torch.utils.tensorboard.SummaryWriter` writes them.
///
/// ```swift
/// let writer = try SummaryWriter(logdir: "runs/resnet34")
/// try writer.addScalar("Loss/Train", loss, step: epoch)
/// try writer.addScalars("Loss", ["train": trainLoss, "validation": validationLoss], step: epoch)
/// try writer.close()
/// ```
///
/// Logging never waits for the disk: each call queues its values and returns; a background thread
/// per event file encodes and writes them, at the latest every `flushInterval` seconds so a
/// crashed run keeps its curves. All methods are safe to call from several threads at once;
/// events from one thread keep their order.
///
/// Close the writer (or let it go out of scope) to write everything queued. Failures of the
/// background writes are reported by the next call.
public final class SummaryWriter: Sendable {
    /// The run directory holding the main event file.
    public let logdir: String
    /// Longest time, in seconds, queued events wait before being written to the file.
    public let flushInterval: Double
    /// The step a resumed run continues from (see ``init(logdir:flushInterval:filenameSuffix:purgeStep:)-(String,_,_,_)``), or `nil`.
    public let purgeStep: Int?

    private let main: EventFileWriter
    private let groups = Locked<[String: EventFileWriter]>([:])

    /// Opens a new event file in `logdir`, creating the directory (and its parents) if needed.
    ///
    /// - Parameters:
    ///   - logdir: the run directory, as given to `tensorboard --logdir` or a sub-directory of it.
    ///   - flushInterval: seconds between background writes to the file (default 2).
    ///   - filenameSuffix: appended to the event file name.
    ///   - purgeStep: when a run resumes from a checkpoint at this step, the step to continue
    ///     from: TensorBoard then drops every event of the run's earlier files at this step or
    ///     later (what the crashed session logged after its checkpoint), so the curves show each
    ///     step once. torch's `SummaryWriter(purge_step:)`; the same applies to ``addScalars(_:_:step:wallTime:)``'s runs.
    /// - Throws: ``SummaryWriterError/cannotCreateDirectory(path:reason:)`` or
    ///   ``SummaryWriterError/cannotCreateFile(path:reason:)`` when `logdir` is not writable.
    public init(
        logdir: String, flushInterval: Double = 2, filenameSuffix: String = "",
        purgeStep: Int? = nil
    ) throws(SummaryWriterError) {
        self.logdir = logdir
        self.flushInterval = max(0.01, flushInterval)
        self.purgeStep = purgeStep
        main = try EventFileWriter(
            directory: logdir, flushInterval: self.flushInterval, filenameSuffix: filenameSuffix,
            purgeStep: purgeStep)
    }

    /// ``init(logdir:flushInterval:filenameSuffix:purgeStep:)`` with a file URL.
    public convenience init(
        logdir: URL, flushInterval: Double = 2, filenameSuffix: String = "",
        purgeStep: Int? = nil
    ) throws(SummaryWriterError) {
        try self.init(logdir: logdir.path, flushInterval: flushInterval, filenameSuffix: filenameSuffix, purgeStep: purgeStep)
    }

    deinit {
        try? close()
    }

    /// The path of the main event file.
    public var eventFilePath: String { main.path }

    // MARK: - Logging

    /// Logs one point of the scalar curve `tag` (for example `Loss/Train`), stored as float32.
    ///
    /// - Parameters:
    ///   - tag: the curve's name; `/` groups curves into sections.
    ///   - value: the point's value.
    ///   - step: the x coordinate (epoch, batch...).
    ///   - wallTime: seconds since 1970 UTC; the current time when `nil`.
    /// - Throws: ``SummaryWriterError/invalidTag(_:reason:)``, ``SummaryWriterError/closed(logdir:)``,
    ///   or an earlier background write failure.
    public func addScalar(_ tag: String, _ value: Float, step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: tag)
        try main.enqueue(
            PendingEvent(
                wallTime: wallTime ?? Self.now(), step: Int64(step),
                payload: .scalar(tag: tag, value: value)))
    }

    /// ``addScalar(_:_:step:wallTime:)-(_,Float,_,_)`` for a `Double` (rounded to float32, as TensorBoard stores it).
    /// Disfavoured so that a literal (`addScalar("x", 1, step: 0)`) is not ambiguous.
    @_disfavoredOverload
    public func addScalar(_ tag: String, _ value: Double, step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try addScalar(tag, Float(value), step: step, wallTime: wallTime)
    }

    /// Logs several curves in one chart, as PyTorch's `add_scalars` does: each member `name` goes
    /// to its own run `<logdir>/<mainTag with "/" replaced by "_">_<name>` under the tag `mainTag`,
    /// so TensorBoard draws them together.
    ///
    /// - Throws: as ``addScalar(_:_:step:wallTime:)-(_,Float,_,_)``, plus the errors of creating a member's run
    ///   directory and event file.
    public func addScalars(_ mainTag: String, _ values: [String: Double], step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: mainTag)
        let time = wallTime ?? Self.now()
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            try Self.validate(tag: name)
            let directory = logdir + "/" + mainTag.replacingOccurrences(of: "/", with: "_") + "_" + name
            let writer = try groupWriter(directory)
            try writer.enqueue(
                PendingEvent(
                    wallTime: time, step: Int64(step),
                    payload: .scalar(tag: mainTag, value: Float(value))))
        }
    }

    /// Logs the distribution of `values` (weights, activations, gradients) in TensorFlow's
    /// default buckets, as `torch.utils.tensorboard` does (`bins="tensorflow"`).
    ///
    /// - Throws: ``SummaryWriterError/emptyHistogram(tag:)``,
    ///   ``SummaryWriterError/nonFiniteHistogramValue(tag:index:value:)``,
    ///   ``SummaryWriterError/histogramOutOfRange(tag:)``, and as ``addScalar(_:_:step:wallTime:)-(_,Float,_,_)``.
    public func addHistogram(_ tag: String, _ values: [Float], step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: tag)
        try values.withUnsafeBufferPointer { (buffer) throws(SummaryWriterError) in
            try Self.validateHistogram(tag: tag, count: buffer.count) { Double(buffer[$0]) }
        }
        try main.enqueue(
            PendingEvent(
                wallTime: wallTime ?? Self.now(), step: Int64(step),
                payload: .histogramFloat(tag: tag, values: values)))
    }

    /// ``addHistogram(_:_:step:wallTime:)-(_,[Float],_,_)`` for `Double` values.
    @_disfavoredOverload
    public func addHistogram(_ tag: String, _ values: [Double], step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: tag)
        try values.withUnsafeBufferPointer { (buffer) throws(SummaryWriterError) in
            try Self.validateHistogram(tag: tag, count: buffer.count) { buffer[$0] }
        }
        try main.enqueue(
            PendingEvent(
                wallTime: wallTime ?? Self.now(), step: Int64(step),
                payload: .histogram(tag: tag, values: values)))
    }

    /// Logs an image (PNG-encoded on the writer thread).
    ///
    /// - Throws: as ``addScalar(_:_:step:wallTime:)-(_,Float,_,_)``.
    public func addImage(_ tag: String, _ image: SummaryImage, step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: tag)
        try main.enqueue(
            PendingEvent(
                wallTime: wallTime ?? Self.now(), step: Int64(step),
                payload: .image(tag: tag, image: image)))
    }

    /// Logs a text (Markdown) for TensorBoard's Text dashboard, under `tag` as given (PyTorch's
    /// `add_text` appends `/text_summary` to the tag; the message is otherwise the same).
    ///
    /// - Throws: as ``addScalar(_:_:step:wallTime:)-(_,Float,_,_)``.
    public func addText(_ tag: String, _ text: String, step: Int, wallTime: Double? = nil) throws(SummaryWriterError) {
        try Self.validate(tag: tag)
        try main.enqueue(
            PendingEvent(
                wallTime: wallTime ?? Self.now(), step: Int64(step),
                payload: .text(tag: tag, text: text)))
    }

    /// Records one training session's hyper-parameters and final metrics for the HParams
    /// dashboard, as PyTorch's `add_hparams` does: in a run `<logdir>/<runName>` holding the
    /// experiment, session-start and session-end summaries and one scalar per metric.
    /// Hyper-parameters and metrics are written in name order.
    ///
    /// - Parameters:
    ///   - hparams: hyper-parameter values by name.
    ///   - metrics: final metric values by name (each also logged as a scalar).
    ///   - runName: the run sub-directory; the current Unix time in seconds when `nil`.
    ///   - step: the step of the metric scalars.
    /// - Throws: ``SummaryWriterError/invalidTag(_:reason:)`` for a bad name, and the errors of
    ///   creating and writing the run's event file.
    public func addHParams(
        _ hparams: [String: HParamValue], metrics: [String: Double],
        runName: String? = nil, step: Int = 0
    ) throws(SummaryWriterError) {
        for name in hparams.keys { try Self.validate(tag: name) }
        for name in metrics.keys { try Self.validate(tag: name) }
        let run = runName ?? String(Self.now())
        try Self.validate(tag: run)
        let ordered = hparams.sorted { $0.key < $1.key }.map { PendingEvent.HParam(name: $0.key, value: $0.value) }
        let metricNames = metrics.keys.sorted()
        let writer = try EventFileWriter(directory: logdir + "/" + run, flushInterval: flushInterval)
        do {
            let time = Self.now(), s = Int64(step)
            try writer.enqueue(PendingEvent(wallTime: time, step: s, payload: .hparamsExperiment(hparams: ordered, metrics: metricNames)))
            try writer.enqueue(PendingEvent(wallTime: time, step: s, payload: .hparamsSessionStart(hparams: ordered)))
            try writer.enqueue(PendingEvent(wallTime: time, step: s, payload: .hparamsSessionEnd))
            for name in metricNames {
                try writer.enqueue(PendingEvent(wallTime: time, step: s, payload: .scalar(tag: name, value: Float(metrics[name]!))))
            }
        } catch {
            try? writer.close()
            throw error
        }
        try writer.close()
    }

    // MARK: - Lifetime

    /// Blocks until everything logged before the call is written to the event files.
    ///
    /// - Throws: ``SummaryWriterError/writeFailed(path:reason:)`` if a background write failed.
    public func flush() throws(SummaryWriterError) {
        try main.flush()
        for writer in groups.withLock({ Array($0.values) }) { try writer.flush() }
    }

    /// Writes everything queued and closes the event files. Later logging calls throw
    /// ``SummaryWriterError/closed(logdir:)``; closing again does nothing.
    ///
    /// - Throws: ``SummaryWriterError/writeFailed(path:reason:)`` if a background write failed.
    public func close() throws(SummaryWriterError) {
        var firstError: SummaryWriterError?
        for writer in [main] + groups.withLock({ Array($0.values) }) {
            do throws(SummaryWriterError) { try writer.close() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    // MARK: - Helpers

    private func groupWriter(_ directory: String) throws(SummaryWriterError) -> EventFileWriter {
        let result: Result<EventFileWriter, SummaryWriterError> = groups.withLock { writers in
            if let writer = writers[directory] { return .success(writer) }
            do throws(SummaryWriterError) {
                let writer = try EventFileWriter(directory: directory, flushInterval: flushInterval, purgeStep: purgeStep)
                writers[directory] = writer
                return .success(writer)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Wall-clock seconds since 1970; `clock_gettime` directly, as `Date()` costs more per scalar.
    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func validate(tag: String) throws(SummaryWriterError) {
        if tag.isEmpty { throw .invalidTag(tag, reason: "empty (expected a non-empty name)") }
        if tag.utf8.contains(0) { throw .invalidTag(tag, reason: "contains a NUL byte") }
    }

    private static func validateHistogram(tag: String, count: Int, value: (Int) -> Double) throws(SummaryWriterError) {
        guard count > 0 else { throw .emptyHistogram(tag: tag) }
        let limit = Histogram.defaultEdges[Histogram.defaultEdges.count - 1]
        var inside = false
        for i in 0..<count {
            let v = value(i)
            guard v.isFinite else { throw .nonFiniteHistogramValue(tag: tag, index: i, value: v) }
            if abs(v) <= limit { inside = true }
        }
        if !inside { throw .histogramOutOfRange(tag: tag) }
    }
}
