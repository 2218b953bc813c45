/// One event as the caller hands it over: plain Swift values, cheap to enqueue. The protobuf
/// encoding (and any histogram or PNG work) happens later on the file's writer thread.
struct PendingEvent: Sendable {
    /// Seconds since 1970-01-01 UTC.
    var wallTime: Double
    var step: Int64
    var payload: Payload

    enum Payload: Sendable {
        /// The first record of every file: `file_version: "brain.Event:2"`.
        case fileVersion
        /// `session_log: {status: START}`: TensorBoard's reader drops every event of the run
        /// already read whose step is at or after this event's (torch's `purge_step`).
        case sessionStart
        case scalar(tag: String, value: Float)
        case histogram(tag: String, values: [Double])
        case histogramFloat(tag: String, values: [Float])
        case image(tag: String, image: SummaryImage)
        case text(tag: String, text: String)
        /// The three HParams plugin summaries (`torch.utils.tensorboard.summary.hparams`).
        case hparamsExperiment(hparams: [HParam], metrics: [String])
        case hparamsSessionStart(hparams: [HParam])
        case hparamsSessionEnd
    }

    /// A named hyper-parameter, in the order they are written.
    struct HParam: Sendable {
        var name: String
        var value: HParamValue
    }
}
