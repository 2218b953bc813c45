/// Sums statistics across the replicas of a data-parallel run (processes that each train a copy
/// of the model on their share of a batch), for batch norm synchronised across them
/// (``BatchNorm2d/replicaStatistics``).
///
/// TensorKit knows nothing of how the replicas talk: an MPI process group, threads in one
/// process, or anything else conforms.
public protocol ReplicaStatistics: AnyObject {
    /// Replaces every value by its sum over all replicas.
    ///
    /// Every replica calls this in the same order with the same count (each batch-norm layer
    /// twice in its forward pass and once in its backward pass); a replica that cannot reach
    /// the others must stop the run rather than return.
    func sumAcrossReplicas(_ values: inout [Double])
}
