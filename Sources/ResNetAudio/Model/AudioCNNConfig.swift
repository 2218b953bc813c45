/// The shape of an ``AudioCNN``: stage depths and widths, classes and dropout.
///
/// ``resnet34(classes:)`` is the reference model (depths `[3, 4, 6, 3]`, widths
/// `[64, 128, 256, 512]`); ``small(classes:)`` is a narrow, shallow variant for tests and demos.
/// Stored as JSON in checkpoints, with the same keys as the PyTorch export script writes.
public struct AudioCNNConfig: Codable, Equatable, Hashable, Sendable {
    /// Number of output classes (the size of the logits).
    public var numClasses: Int
    /// Residual blocks per stage, e.g. `[3, 4, 6, 3]`.
    public var depths: [Int]
    /// Channels of each stage, e.g. `[64, 128, 256, 512]`.
    public var widths: [Int]
    /// Channels of the stem convolution.
    public var stemChannels: Int
    /// Dropout probability before the final linear layer.
    public var dropout: Float

    /// A configuration; see ``validate()`` for what must hold.
    public init(
        numClasses: Int, depths: [Int] = [3, 4, 6, 3], widths: [Int] = [64, 128, 256, 512],
        stemChannels: Int? = nil, dropout: Float = 0.5
    ) {
        self.numClasses = numClasses
        self.depths = depths
        self.widths = widths
        self.stemChannels = stemChannels ?? widths.first ?? 64
        self.dropout = dropout
    }

    /// The reference ResNet-34-style model (21.3 M parameters for 50 classes).
    public static func resnet34(classes: Int = 50) -> AudioCNNConfig {
        AudioCNNConfig(numClasses: classes)
    }

    /// One block per stage, widths 8-64: about 0.1 M parameters, for tests and quick demos.
    public static func small(classes: Int = 10) -> AudioCNNConfig {
        AudioCNNConfig(numClasses: classes, depths: [1, 1, 1, 1], widths: [8, 16, 32, 64], stemChannels: 8)
    }

    /// Checks the configuration.
    /// - Throws: ``ModelError/invalidConfig(_:)`` saying which field is wrong and why.
    public func validate() throws(ModelError) {
        guard numClasses > 0 else { throw .invalidConfig("numClasses is \(numClasses); it must be positive") }
        guard !depths.isEmpty, depths.count == widths.count else {
            throw .invalidConfig("depths \(depths) and widths \(widths) must be non-empty and of equal length")
        }
        guard depths.allSatisfy({ $0 > 0 }), widths.allSatisfy({ $0 > 0 }), stemChannels > 0 else {
            throw .invalidConfig("depths \(depths), widths \(widths) and stemChannels \(stemChannels) must be positive")
        }
        guard dropout >= 0, dropout < 1 else { throw .invalidConfig("dropout is \(dropout); it must lie in [0, 1)") }
    }

    enum CodingKeys: String, CodingKey {
        case numClasses = "num_classes", depths, widths, stemChannels = "stem_channels", dropout
    }
}

/// Why a model could not be built or loaded.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The configuration is not usable; the text says which field and why.
    case invalidConfig(String)
    /// The input tensor does not have the shape the model takes.
    case invalidInput(shape: [Int], expected: String)

    /// A one-line explanation naming the input at fault and what was expected.
    public var description: String {
        switch self {
        case .invalidConfig(let why): return "invalid AudioCNN configuration: \(why)"
        case .invalidInput(let shape, let expected): return "input of shape \(shape) is not \(expected)"
        }
    }
}
