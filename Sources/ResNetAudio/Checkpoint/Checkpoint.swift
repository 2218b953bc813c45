import Foundation
import TensorKit

/// What a checkpoint records besides the weights.
public struct CheckpointMetadata: Equatable, Sendable {
    /// Class names in the order of the logits.
    public var classes: [String]
    /// The model's configuration.
    public var modelConfig: AudioCNNConfig
    /// The front-end's configuration as JSON (AudioDSP's `MelConfig`, encoded by the caller, so
    /// this module does not depend on AudioDSP), or `nil`.
    public var melConfigJSON: String?
    /// Training epochs completed.
    public var epoch: Int
    /// Validation accuracy in `[0, 1]` when known.
    public var validationAccuracy: Double?
    /// Further string entries kept as they are (e.g. the run's seed or source).
    public var extra: [String: String]

    /// Metadata for a model of `modelConfig` predicting `classes`.
    public init(
        classes: [String], modelConfig: AudioCNNConfig, melConfigJSON: String? = nil,
        epoch: Int = 0, validationAccuracy: Double? = nil, extra: [String: String] = [:]
    ) {
        self.classes = classes
        self.modelConfig = modelConfig
        self.melConfigJSON = melConfigJSON
        self.epoch = epoch
        self.validationAccuracy = validationAccuracy
        self.extra = extra
    }
}

/// Why a checkpoint could not be written or read. Each case names the file and the problem.
public enum CheckpointError: Error, CustomStringConvertible {
    /// The file could not be read or written as safetensors (missing, truncated, corrupt, disk full).
    case file(path: String, underlying: SafeTensorsError)
    /// A readable safetensors file that is not an AudioCNN checkpoint, or whose metadata is damaged.
    case notACheckpoint(path: String, reason: String)
    /// The format version is newer than this library reads.
    case unsupportedVersion(path: String, version: String)
    /// The weights do not fit the configuration stored beside them (missing or unexpected keys,
    /// or a shape mismatch with both shapes).
    case weightsMismatch(path: String, underlying: TensorError)
    /// The metadata is inconsistent with the weights or itself.
    case invalidMetadata(path: String, reason: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .file(let path, let error): return "\(path): \(error)"
        case .notACheckpoint(let path, let reason): return "\(path) is not an AudioCNN checkpoint: \(reason)"
        case .unsupportedVersion(let path, let version):
            return "\(path): checkpoint format version \(version) is newer than this library reads (\(Checkpoint.formatVersion))"
        case .weightsMismatch(let path, let error): return "\(path): weights do not fit the stored model config: \(error)"
        case .invalidMetadata(let path, let reason): return "\(path): invalid checkpoint metadata: \(reason)"
        }
    }
}

/// Model checkpoints: one safetensors file holding the state dict under PyTorch's key names
/// (F32, with `num_batches_tracked` as I64) and string metadata (`format`, `format_version`,
/// `classes`, `model_config`, `mel_config`, `epoch`, `val_accuracy`). See Docs/Checkpoints.md;
/// `Scripts/export_pytorch_checkpoint.py` and `Scripts/import_checkpoint_to_pytorch.py` convert
/// from and to the reference PyTorch project.
public enum Checkpoint {
    /// The `format` metadata value that marks our checkpoints.
    public static let format = "audiocnn-swift-checkpoint"
    /// The format version written; readers accept this one and older.
    public static let formatVersion = 1

    /// Writes `model` and `metadata` to `url` atomically (temporary file, fsync, rename), so a
    /// crash leaves either the old file or the new one.
    /// - Throws: ``CheckpointError/invalidMetadata(path:reason:)`` when the class count does not
    ///   match the model, ``CheckpointError/file(path:underlying:)`` when writing fails.
    public static func save(_ model: AudioCNN, metadata: CheckpointMetadata, to url: URL) throws(CheckpointError) {
        guard metadata.classes.count == model.config.numClasses else {
            throw .invalidMetadata(
                path: url.path, reason: "\(metadata.classes.count) class names for a model with \(model.config.numClasses) outputs")
        }
        var entries: [String: String] = metadata.extra
        entries["format"] = format
        entries["format_version"] = String(formatVersion)
        entries["classes"] = jsonString(metadata.classes)
        entries["model_config"] = jsonString(model.config)
        if let mel = metadata.melConfigJSON { entries["mel_config"] = mel }
        entries["epoch"] = String(metadata.epoch)
        if let accuracy = metadata.validationAccuracy { entries["val_accuracy"] = String(accuracy) }
        do {
            try model.saveSafeTensors(to: url, metadata: entries)
        } catch {
            throw .file(path: url.path, underlying: error)
        }
    }

    /// Reads only the metadata of the checkpoint at `url` (the weights stay mapped, not copied).
    /// - Throws: ``CheckpointError``.
    public static func metadata(at url: URL) throws(CheckpointError) -> CheckpointMetadata {
        try metadata(of: open(url), path: url.path)
    }

    /// Builds the model the checkpoint at `url` describes and loads its weights.
    /// - Throws: ``CheckpointError`` naming the problem: unreadable or truncated file, not a
    ///   checkpoint, a newer format, or weights that do not fit (missing or unexpected keys, a
    ///   shape mismatch with both shapes).
    public static func load(from url: URL) throws(CheckpointError) -> (model: AudioCNN, metadata: CheckpointMetadata) {
        let file = try open(url)
        let metadata = try metadata(of: file, path: url.path)
        let model: AudioCNN
        do {
            try metadata.modelConfig.validate()
        } catch {
            throw .invalidMetadata(path: url.path, reason: "\(error)")
        }
        // Building the model allocates what model_config describes: refuse a config far larger
        // than the weights the file holds (a damaged or hostile header) before allocating. Near
        // misses still reach loadStateDict, whose error names the missing key or wrong shape.
        let stored = file.entries.reduce(0) { $0 + $1.elementCount }
        let limit = 2 * stored + (1 << 20)
        guard let needed = metadata.modelConfig.stateValueCount, needed <= limit else {
            let size = metadata.modelConfig.stateValueCount.map(String.init) ?? "more than \(Int.max)"
            throw .invalidMetadata(
                path: url.path, reason: "model_config describes a model of \(size) values but the file holds only \(stored)")
        }
        do {
            model = try AudioCNN(config: metadata.modelConfig)
        } catch {
            throw .invalidMetadata(path: url.path, reason: "\(error)")
        }
        do {
            try model.loadStateDict(file.tensors(), strict: true)
        } catch let error as TensorError {
            throw .weightsMismatch(path: url.path, underlying: error)
        } catch {
            throw .invalidMetadata(path: url.path, reason: "\(error)")
        }
        model.eval()
        return (model, metadata)
    }

    private static func open(_ url: URL) throws(CheckpointError) -> SafeTensorsFile {
        do {
            return try SafeTensorsFile(contentsOf: url)
        } catch {
            throw .file(path: url.path, underlying: error)
        }
    }

    private static func metadata(of file: SafeTensorsFile, path: String) throws(CheckpointError) -> CheckpointMetadata {
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .notACheckpoint(
                path: path,
                reason: meta["format"].map { "its format is \"\($0)\"" }
                    ?? "it has no \"format\" metadata (a bare state dict? see Scripts/export_pytorch_checkpoint.py)")
        }
        guard let versionText = meta["format_version"], let version = Int(versionText) else {
            throw .notACheckpoint(path: path, reason: "no valid \"format_version\" metadata")
        }
        guard version <= formatVersion else { throw .unsupportedVersion(path: path, version: versionText) }
        let classes: [String] = try decode(meta["classes"], key: "classes", path: path)
        let config: AudioCNNConfig = try decode(meta["model_config"], key: "model_config", path: path)
        guard classes.count == config.numClasses else {
            throw .invalidMetadata(path: path, reason: "\(classes.count) class names but model_config has num_classes \(config.numClasses)")
        }
        guard let epoch = Int(meta["epoch"] ?? "0") else {
            throw .invalidMetadata(path: path, reason: "epoch \"\(meta["epoch"] ?? "")\" is not an integer")
        }
        let accuracy = meta["val_accuracy"].flatMap(Double.init).flatMap { $0.isNaN ? nil : $0 }
        let known: Set<String> = ["format", "format_version", "classes", "model_config", "mel_config", "epoch", "val_accuracy"]
        return CheckpointMetadata(
            classes: classes, modelConfig: config, melConfigJSON: meta["mel_config"],
            epoch: epoch, validationAccuracy: accuracy,
            extra: meta.filter { !known.contains($0.key) })
    }

    private static func decode<T: Decodable>(_ text: String?, key: String, path: String) throws(CheckpointError) -> T {
        guard let text else { throw .invalidMetadata(path: path, reason: "no \"\(key)\" entry") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw .invalidMetadata(path: path, reason: "\"\(key)\" is not valid: \(error)")
        }
    }

    private static func jsonString<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding [String] or a config of numbers cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
