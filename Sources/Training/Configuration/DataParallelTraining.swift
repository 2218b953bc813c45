import DataParallel

/// How a ``Trainer`` trains one model together with other processes (data parallelism, as
/// PyTorch's DistributedDataParallel): every process holds a replica, each global batch of
/// ``TrainingConfiguration/batchSize`` clips is cut into one part per process, and the
/// gradients are summed across processes during the backward pass.
///
/// What is kept in step: rank 0's initial (or restored) weights are copied to every process;
/// each batch is split the same way everywhere (the epoch order comes from the seed); the
/// gradient of the global batch's mean loss is exact also for batches that do not divide
/// evenly; batch norm uses each process's own part (as DDP) unless
/// ``synchronizeBatchNorm``, and rank 0's running statistics are copied to every process
/// before validation, which is sharded and summed. Only rank 0 writes checkpoints, the
/// training state and TensorBoard events, and only rank 0 calls ``Trainer/onBatch`` and
/// ``Trainer/onEpoch``.
public struct DataParallelTraining {
    /// The processes; this process is `ProcessGroup.rank`.
    public var group: any ProcessGroup
    /// Normalise with the statistics of the whole global batch (PyTorch's `SyncBatchNorm`):
    /// training then computes what one process with the whole batch computes.
    public var synchronizeBatchNorm: Bool
    /// The most bytes of gradients summed in one collective (`GradientBuckets`).
    public var bucketBytes: Int

    /// Training over `group`.
    public init(group: any ProcessGroup, synchronizeBatchNorm: Bool = false, bucketBytes: Int = 25 << 20) {
        self.group = group
        self.synchronizeBatchNorm = synchronizeBatchNorm
        self.bucketBytes = bucketBytes
    }
}
