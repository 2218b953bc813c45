/// Batch normalisation over channels, as PyTorch's `nn.BatchNorm2d` (affine, tracking running
/// statistics).
///
/// Parameters `weight` (1) and `bias` (0), `[features]`; buffers `running_mean` (0),
/// `running_var` (1) and `num_batches_tracked` (int64 in checkpoints, shape `[]`). In training
/// mode it normalises with the batch's statistics and updates the running ones; in evaluation
/// mode it uses the running ones.
public final class BatchNorm2d: Layer {
    /// Scale γ, `[features]`.
    public let weight: Parameter
    /// Shift β, `[features]`.
    public let bias: Parameter
    /// Running mean, `[features]`.
    public let runningMean: Buffer
    /// Running (unbiased) variance, `[features]`.
    public let runningVar: Buffer
    /// How many training batches have updated the running statistics (shape `[]`).
    public let numBatchesTracked: Buffer
    /// Weight of each new batch in the running statistics.
    public let momentum: Float
    /// Added to the variance before the square root.
    public let eps: Float
    public var isTraining = true
    /// Synchronises the batch statistics across the replicas of a data-parallel run when set:
    /// in training, the mean and variance are those of the whole global batch, and the
    /// backward pass sums its per-channel terms the same way, as PyTorch's `SyncBatchNorm`.
    /// `nil` (the default) normalises with this process's batch alone.
    public var replicaStatistics: (any ReplicaStatistics)?

    /// Batch norm over `features` channels.
    /// - Precondition: `features > 0`, `eps > 0`, `momentum` in `[0, 1]`.
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        precondition(
            features > 0 && eps > 0 && momentum >= 0 && momentum <= 1,
            "TensorKit.BatchNorm2d: features \(features) must be positive, eps \(eps) > 0, momentum \(momentum) in [0, 1]")
        weight = Parameter(Tensor(repeating: 1, shape: [features]))
        bias = Parameter(Tensor(zeros: [features]))
        runningMean = Buffer(Tensor(zeros: [features]))
        runningVar = Buffer(Tensor(repeating: 1, shape: [features]))
        numBatchesTracked = Buffer(Tensor(zeros: []), dtype: .int64)
        self.momentum = momentum
        self.eps = eps
    }

    public var namedOwnParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    public var namedOwnBuffers: [(name: String, buffer: Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
    }

    /// Normalises `input` (`[batch, features, height, width]`).
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input, fusedReLU: false) }

    /// Normalises `input`, adds `residual` when given, then applies ReLU when `fusedReLU` is
    /// true, all in one pass: equal to `relu(self(input) + residual)` with fewer passes over
    /// memory (the end of a residual block).
    public func forward(_ input: Tensor, adding residual: Tensor? = nil, fusedReLU: Bool) -> Tensor {
        forward(input, adding: residual, fusedReLU: fusedReLU, moments: nil)
    }

    /// The same, in training with the statistics from `moments` (the input's, added up by the
    /// convolution that produced it: ``Conv2d/forwardCollectingMoments(_:)``) when given.
    package func forward(_ input: Tensor, adding residual: Tensor? = nil, fusedReLU: Bool, moments: ChannelMoments?)
        -> Tensor
    {
        let out = batchNorm2d(
            input, weight: weight.tensor, bias: bias.tensor,
            runningMean: &runningMean.value, runningVar: &runningVar.value,
            training: isTraining, momentum: momentum, eps: eps,
            residual: residual, fusedReLU: fusedReLU, replicaStatistics: replicaStatistics, moments: moments)
        if isTraining {
            numBatchesTracked.value = Tensor(repeating: numBatchesTracked.value.scalar + 1, shape: numBatchesTracked.value.shape)
        }
        return out
    }
}
