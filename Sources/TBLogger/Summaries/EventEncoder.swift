import _TBLoggerProto

/// Turns ``PendingEvent``s into framed `tensorboard.Event` records with protobuf-c.
///
/// Summaries are laid out as `torch.utils.tensorboard` writes them, so TensorBoard's plugins (and
/// tools that read PyTorch runs) find them where they expect: scalars as `simple_value`,
/// histograms as `histo`, images as `image`, text as a `DT_STRING` tensor for the `text` plugin,
/// hyper-parameters as the HParams plugin's three `_hparams_/…` summaries.
enum EventEncoder {
    /// TensorBoard's event file format version, the payload of every file's first event.
    static let fileVersion = "brain.Event:2"

    /// Appends `event` to `buffer` as one TFRecord.
    static func append(_ event: PendingEvent, to buffer: RecordBuffer) {
        switch event.payload {
        case let .scalar(tag, value):
            appendScalar(tag: tag, value: value, wallTime: event.wallTime, step: event.step, to: buffer)
        case .fileVersion:
            var message = Tensorboard__Event()
            tensorboard__event__init(&message)
            message.wall_time = event.wallTime
            message.step = event.step
            message.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION
            fileVersion.withCString { version in
                message.file_version = UnsafeMutablePointer(mutating: version)
                pack(&message, to: buffer)
            }
        case .sessionStart:
            var session = Tensorboard__SessionLog()
            tensorboard__session_log__init(&session)
            session.status = TENSORBOARD__SESSION_LOG__SESSION_STATUS__START
            var message = Tensorboard__Event()
            tensorboard__event__init(&message)
            message.wall_time = event.wallTime
            message.step = event.step
            message.what_case = TENSORBOARD__EVENT__WHAT_SESSION_LOG
            withUnsafeMutablePointer(to: &session) { pointer in
                message.session_log = pointer
                pack(&message, to: buffer)
            }
        default:
            let arena = CArena()
            var value = Tensorboard__Summary__Value()
            tensorboard__summary__value__init(&value)
            fill(&value, from: event.payload, arena: arena)
            appendSummary(arena.make(value), wallTime: event.wallTime, step: event.step, to: buffer, arena: arena)
        }
    }

    /// The hot path: no arena, every message on the stack.
    private static func appendScalar(
        tag: String, value: Float, wallTime: Double, step: Int64,
        to buffer: RecordBuffer
    ) {
        var summaryValue = Tensorboard__Summary__Value()
        tensorboard__summary__value__init(&summaryValue)
        summaryValue.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE
        summaryValue.simple_value = value
        var summary = Tensorboard__Summary()
        tensorboard__summary__init(&summary)
        var message = Tensorboard__Event()
        tensorboard__event__init(&message)
        message.wall_time = wallTime
        message.step = step
        message.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY
        tag.withCString { cTag in
            summaryValue.tag = UnsafeMutablePointer(mutating: cTag)
            withUnsafeMutablePointer(to: &summaryValue) { valuePointer in
                var values: UnsafeMutablePointer<Tensorboard__Summary__Value>? = valuePointer
                withUnsafeMutablePointer(to: &values) { list in
                    summary.n_value = 1
                    summary.value = list
                    withUnsafeMutablePointer(to: &summary) { summaryPointer in
                        message.summary = summaryPointer
                        pack(&message, to: buffer)
                    }
                }
            }
        }
    }

    private static func appendSummary(
        _ value: UnsafeMutablePointer<Tensorboard__Summary__Value>,
        wallTime: Double, step: Int64, to buffer: RecordBuffer, arena: CArena
    ) {
        var summary = Tensorboard__Summary()
        tensorboard__summary__init(&summary)
        summary.n_value = 1
        summary.value = arena.array([Optional(value)])
        var message = Tensorboard__Event()
        tensorboard__event__init(&message)
        message.wall_time = wallTime
        message.step = step
        message.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY
        message.summary = arena.make(summary)
        pack(&message, to: buffer)
    }

    private static func pack(_ message: inout Tensorboard__Event, to buffer: RecordBuffer) {
        let size = tensorboard__event__get_packed_size(&message)
        buffer.appendRecord(payloadSize: size) { out in
            _ = tensorboard__event__pack(&message, out)
        }
    }

    private static func fill(
        _ value: inout Tensorboard__Summary__Value, from payload: PendingEvent.Payload,
        arena: CArena
    ) {
        switch payload {
        case .fileVersion, .sessionStart, .scalar:
            preconditionFailure("encoded on their own paths")
        case let .histogram(tag, values):
            value.tag = arena.string(tag)
            setHistogram(&value, values.withUnsafeBufferPointer { Histogram($0) }, arena: arena)
        case let .histogramFloat(tag, values):
            value.tag = arena.string(tag)
            let doubles = values.map(Double.init)
            setHistogram(&value, doubles.withUnsafeBufferPointer { Histogram($0) }, arena: arena)
        case let .image(tag, image):
            value.tag = arena.string(tag)
            var proto = Tensorboard__Summary__Image()
            tensorboard__summary__image__init(&proto)
            proto.height = Int32(image.height)
            proto.width = Int32(image.width)
            proto.colorspace = Int32(image.channels.rawValue)
            proto.encoded_image_string = arena.binary(image.pngData())
            value.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE
            value.image = arena.make(proto)
        case let .text(tag, text):
            value.tag = arena.string(tag)
            value.metadata = pluginMetadata(name: "text", content: [], arena: arena)
            var dim = Tensorboard__TensorShapeProto__Dim()
            tensorboard__tensor_shape_proto__dim__init(&dim)
            dim.size = 1
            var shape = Tensorboard__TensorShapeProto()
            tensorboard__tensor_shape_proto__init(&shape)
            shape.n_dim = 1
            shape.dim = arena.array([Optional(arena.make(dim))])
            var tensor = Tensorboard__TensorProto()
            tensorboard__tensor_proto__init(&tensor)
            tensor.dtype = TENSORBOARD__DATA_TYPE__DT_STRING
            tensor.tensor_shape = arena.make(shape)
            tensor.n_string_val = 1
            tensor.string_val = arena.array([arena.binary(Array(text.utf8))])
            value.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR
            value.tensor = arena.make(tensor)
        case let .hparamsExperiment(hparams, metrics):
            var experiment = Tensorboard__Hparams__Experiment()
            tensorboard__hparams__experiment__init(&experiment)
            let infos = hparams.map { hparam -> UnsafeMutablePointer<Tensorboard__Hparams__HParamInfo>? in
                var info = Tensorboard__Hparams__HParamInfo()
                tensorboard__hparams__hparam_info__init(&info)
                info.name = arena.string(hparam.name)
                info.type =
                    switch hparam.value {
                    case .number: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64
                    case .string: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_STRING
                    case .bool: TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_BOOL
                    }
                return arena.make(info)
            }
            experiment.n_hparam_infos = infos.count
            experiment.hparam_infos = arena.array(infos)
            let metricInfos = metrics.map { tag -> UnsafeMutablePointer<Tensorboard__Hparams__MetricInfo>? in
                var name = Tensorboard__Hparams__MetricName()
                tensorboard__hparams__metric_name__init(&name)
                name.tag = arena.string(tag)
                var info = Tensorboard__Hparams__MetricInfo()
                tensorboard__hparams__metric_info__init(&info)
                info.name = arena.make(name)
                return arena.make(info)
            }
            experiment.n_metric_infos = metricInfos.count
            experiment.metric_infos = arena.array(metricInfos)
            var data = Tensorboard__Hparams__HParamsPluginData()
            tensorboard__hparams__hparams_plugin_data__init(&data)
            data.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT
            data.experiment = arena.make(experiment)
            setHParams(&value, tag: "_hparams_/experiment", data: &data, arena: arena)
        case let .hparamsSessionStart(hparams):
            var start = Tensorboard__Hparams__SessionStartInfo()
            tensorboard__hparams__session_start_info__init(&start)
            let entries = hparams.map { hparam -> UnsafeMutablePointer<Tensorboard__Hparams__SessionStartInfo__HparamsEntry>? in
                var protoValue = Google__Protobuf__Value()
                google__protobuf__value__init(&protoValue)
                switch hparam.value {
                case let .number(number):
                    protoValue.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE
                    protoValue.number_value = number
                case let .string(string):
                    protoValue.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE
                    protoValue.string_value = arena.string(string)
                case let .bool(flag):
                    protoValue.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE
                    protoValue.bool_value = flag ? 1 : 0
                }
                var entry = Tensorboard__Hparams__SessionStartInfo__HparamsEntry()
                tensorboard__hparams__session_start_info__hparams_entry__init(&entry)
                entry.key = arena.string(hparam.name)
                entry.value = arena.make(protoValue)
                return arena.make(entry)
            }
            start.n_hparams = entries.count
            start.hparams = arena.array(entries)
            var data = Tensorboard__Hparams__HParamsPluginData()
            tensorboard__hparams__hparams_plugin_data__init(&data)
            data.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO
            data.session_start_info = arena.make(start)
            setHParams(&value, tag: "_hparams_/session_start_info", data: &data, arena: arena)
        case .hparamsSessionEnd:
            var end = Tensorboard__Hparams__SessionEndInfo()
            tensorboard__hparams__session_end_info__init(&end)
            end.status = TENSORBOARD__HPARAMS__STATUS__STATUS_SUCCESS
            var data = Tensorboard__Hparams__HParamsPluginData()
            tensorboard__hparams__hparams_plugin_data__init(&data)
            data.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO
            data.session_end_info = arena.make(end)
            setHParams(&value, tag: "_hparams_/session_end_info", data: &data, arena: arena)
        }
    }

    private static func setHistogram(
        _ value: inout Tensorboard__Summary__Value, _ histogram: Histogram?,
        arena: CArena
    ) {
        // The caller validated the values, so a histogram always exists here.
        guard let histogram else { preconditionFailure("histogram values were validated") }
        var proto = Tensorboard__HistogramProto()
        tensorboard__histogram_proto__init(&proto)
        proto.min = histogram.min
        proto.max = histogram.max
        proto.num = histogram.num
        proto.sum = histogram.sum
        proto.sum_squares = histogram.sumSquares
        proto.n_bucket_limit = histogram.bucketLimits.count
        proto.bucket_limit = arena.array(histogram.bucketLimits)
        proto.n_bucket = histogram.bucketCounts.count
        proto.bucket = arena.array(histogram.bucketCounts)
        value.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO
        value.histo = arena.make(proto)
    }

    /// An HParams summary carries its data in the metadata only (no value), as TensorBoard's and
    /// PyTorch's writers do.
    private static func setHParams(
        _ value: inout Tensorboard__Summary__Value, tag: String,
        data: inout Tensorboard__Hparams__HParamsPluginData, arena: CArena
    ) {
        data.version = 0
        var content = [UInt8](repeating: 0, count: tensorboard__hparams__hparams_plugin_data__get_packed_size(&data))
        content.withUnsafeMutableBufferPointer { out in
            _ = tensorboard__hparams__hparams_plugin_data__pack(&data, out.baseAddress)
        }
        value.tag = arena.string(tag)
        value.metadata = pluginMetadata(name: "hparams", content: content, arena: arena)
    }

    private static func pluginMetadata(name: String, content: [UInt8], arena: CArena)
        -> UnsafeMutablePointer<Tensorboard__SummaryMetadata>
    {
        var plugin = Tensorboard__SummaryMetadata__PluginData()
        tensorboard__summary_metadata__plugin_data__init(&plugin)
        plugin.plugin_name = arena.string(name)
        plugin.content = arena.binary(content)
        var metadata = Tensorboard__SummaryMetadata()
        tensorboard__summary_metadata__init(&metadata)
        metadata.plugin_data = arena.make(plugin)
        return arena.make(metadata)
    }
}
