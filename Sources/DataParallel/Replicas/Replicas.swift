import TensorKit

/// Keeping the replicas of a model identical: copying rank 0's state to every process,
/// synchronising batch norm, and summing counts.
extension ProcessGroup {
    /// Copies every parameter and buffer of `module` from `root` to every other process (each
    /// holds a module of the same shape), e.g. the initial or restored weights of rank 0.
    /// - Throws: the group's error.
    public func broadcastState(of module: any Module, from root: Int = 0) throws(DataParallelError) {
        for (_, parameter) in module.namedParameters() {
            try broadcast(&parameter.value, root: root)
        }
        try broadcastBuffers(of: module, from: root)
    }

    /// Copies every buffer of `module` (batch norm's running statistics and counters) from
    /// `root`: what PyTorch's DistributedDataParallel does before each forward pass, so that
    /// every replica evaluates, and rank 0 saves, the same statistics.
    /// - Throws: the group's error.
    public func broadcastBuffers(of module: any Module, from root: Int = 0) throws(DataParallelError) {
        for (_, buffer) in module.namedBuffers() {
            try broadcast(&buffer.value, root: root)
        }
    }

    /// Copies `tensor` from `root` to every other process (of the same shape there).
    public func broadcast(_ tensor: inout Tensor, root: Int = 0) throws(DataParallelError) {
        var failure: DataParallelError?
        tensor.withUnsafeMutableBufferPointer { values in
            do throws(DataParallelError) { try broadcast(UnsafeMutableRawBufferPointer(values), root: root) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `root`'s bytes, in every process (the others pass anything, e.g. `[]`): for payloads
    /// whose size only `root` knows, such as a serialised training state.
    /// - Throws: the group's error.
    public func broadcast(bytes: [UInt8], root: Int = 0) throws(DataParallelError) -> [UInt8] {
        // The count travels as a sum, the other processes contributing zero.
        let count = try sum([Double(rank == root ? bytes.count : 0)])[0]
        var payload = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        var failure: DataParallelError?
        payload.withUnsafeMutableBytes { raw in
            do throws(DataParallelError) { try broadcast(raw, root: root) } catch { failure = error }
        }
        if let failure { throw failure }
        return payload
    }

    /// The element-wise sum of `values` over all processes.
    public func sum(_ values: [Double]) throws(DataParallelError) -> [Double] {
        var values = values
        var failure: DataParallelError?
        values.withUnsafeMutableBufferPointer { buffer in
            do throws(DataParallelError) { try allReduceSum(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return values
    }

    /// Synchronises every `BatchNorm2d` of `module` across this group (`enabled`), or returns
    /// them to per-process statistics.
    public func synchronizeBatchNorm(in module: any Module, _ enabled: Bool = true) {
        let statistics = enabled ? GroupStatistics(group: self) : nil
        for case let norm as BatchNorm2d in module.modules() { norm.replicaStatistics = statistics }
    }
}

/// Batch-norm statistics summed over a process group; a failed sum ends the run (a replica
/// that carried on with its own statistics would silently train another model).
final class GroupStatistics: ReplicaStatistics {
    let group: any ProcessGroup

    init(group: any ProcessGroup) { self.group = group }

    func sumAcrossReplicas(_ values: inout [Double]) {
        do {
            values = try group.sum(values)
        } catch {
            fatalError("DataParallel: synchronised batch norm on rank \(group.rank) failed: \(error)")
        }
    }
}
