/// One class and the model's probability for it.
public struct Prediction: Sendable, Equatable {
    /// The class name, as stored in the checkpoint.
    public var className: String
    /// Softmax probability in `[0, 1]`.
    public var confidence: Float

    /// A prediction of `className` with probability `confidence`.
    public init(className: String, confidence: Float) {
        self.className = className
        self.confidence = confidence
    }
}
