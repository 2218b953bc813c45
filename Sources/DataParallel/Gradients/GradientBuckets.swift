import TensorKit

/// Sums the gradients of a model's replicas across a ``ProcessGroup`` while the backward pass
/// is still running, as PyTorch's DistributedDataParallel does.
///
/// The parameters are cut into buckets of about ``bucketBytes`` in reverse order (the order in
/// which backward finishes their gradients). Report each gradient as it becomes final with
/// ``gradientReady(_:)`` (from `backward(gradient:onGradientReady:)`); once a bucket is complete,
/// its gradients are copied into one buffer and its sum starts on the group's thread, while
/// backward goes on. ``synchronize()`` sums what is left, waits, and writes the sums back into
/// every `Parameter.grad`. Buckets start in order, so every process issues the same
/// collectives in the same order.
///
/// The sum is what each process contributed: to get the gradient of the mean loss over the
/// global batch, each process back-propagates its own mean loss scaled by its share of the
/// batch (`localCount / globalCount`), which also makes batches that do not divide evenly exact.
///
/// ```swift
/// let buckets = GradientBuckets(parameters: model.parameters(), group: group)
/// loss.backward(gradient: Tensor(Float(local) / Float(global)), onGradientReady: buckets.gradientReady)
/// try buckets.synchronize()
/// try optimizer.step()
/// ```
public final class GradientBuckets {
    /// The most bytes of gradients per bucket (a parameter larger than this is a bucket alone).
    public let bucketBytes: Int
    /// The group the sums run in.
    public let group: any ProcessGroup
    /// Communication of the steps so far.
    public private(set) var statistics = Statistics()

    /// What the sums of the steps so far cost.
    public struct Statistics: Sendable, Equatable {
        /// Steps synchronised.
        public var steps = 0
        /// Collectives run (buckets summed).
        public var reductions = 0
        /// Bytes of gradients each process sent into the sums.
        public var bytes = 0
        /// Seconds the sums took on the group's thread, from their start on the wire to their end.
        public var communicationSeconds = 0.0
        /// Seconds ``GradientBuckets/synchronize()`` waited for them after backward had ended:
        /// the part of the communication that computation did not hide.
        public var exposedSeconds = 0.0
        /// The fraction of the communication hidden behind backward, in [0, 1].
        public var overlap: Double {
            communicationSeconds > 0 ? Swift.max(0, 1 - exposedSeconds / communicationSeconds) : 0
        }

        /// No steps yet.
        public init() {}
    }

    private struct Bucket {
        var members: [Int]
        var offsets: [Int]
        var buffer: UnsafeMutableBufferPointer<Float>
        var remaining = 0
        var pending: PendingReduction?
    }

    private let parameters: [Parameter]
    private var buckets: [Bucket]
    private var position: [ObjectIdentifier: (bucket: Int, member: Int)] = [:]
    private var isReady: [Bool]
    private var nextToStart = 0

    /// Buckets over `parameters` (in the model's order).
    /// - Parameters:
    ///   - parameters: the parameters whose gradients are summed, e.g. `model.parameters()`;
    ///     the same list in the same order in every process. Frozen ones
    ///     (`requiresGrad == false`) are left out.
    ///   - group: the processes.
    ///   - bucketBytes: the most bytes per bucket (PyTorch's default is 25 MB).
    public init(parameters: [Parameter], group: any ProcessGroup, bucketBytes: Int = 25 << 20) {
        let parameters = parameters.filter(\.requiresGrad)
        self.parameters = parameters
        self.group = group
        self.bucketBytes = Swift.max(bucketBytes, 4)
        isReady = Array(repeating: false, count: parameters.count)
        var buckets: [Bucket] = []
        var members: [Int] = [], offsets: [Int] = [], used = 0
        func close() {
            guard !members.isEmpty else { return }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: used)
            buffer.initialize(repeating: 0)
            buckets.append(Bucket(members: members, offsets: offsets, buffer: buffer))
            members = []
            offsets = []
            used = 0
        }
        for index in parameters.indices.reversed() {
            let count = parameters[index].value.count
            if used > 0, (used + count) * 4 > self.bucketBytes { close() }
            members.append(index)
            offsets.append(used)
            used += count
        }
        close()
        self.buckets = buckets
        for (b, bucket) in buckets.enumerated() {
            for member in bucket.members { position[ObjectIdentifier(parameters[member])] = (b, member) }
        }
        reset()
    }

    deinit {
        for bucket in buckets { bucket.buffer.deallocate() }
    }

    /// The number of buckets.
    public var bucketCount: Int { buckets.count }

    /// Records that `parameter`'s gradient is final for this step, and starts the sums of every
    /// bucket that is complete (in order).
    /// - Precondition: `parameter` is one of the buckets' and not reported twice in one step
    ///   (a parameter read twice in one forward pass cannot be bucketed this way).
    public func gradientReady(_ parameter: Parameter) {
        guard let (b, member) = position[ObjectIdentifier(parameter)] else {
            preconditionFailure("DataParallel.GradientBuckets: a gradient was reported for a parameter not in the buckets")
        }
        precondition(
            !isReady[member],
            "DataParallel.GradientBuckets: the gradient of parameter \(member) was reported twice in one step (is it read twice in the forward pass?)"
        )
        isReady[member] = true
        buckets[b].remaining -= 1
        while nextToStart < buckets.count, buckets[nextToStart].remaining == 0 {
            start(nextToStart)
            nextToStart += 1
        }
    }

    /// Sums every bucket not started yet (a parameter never reported contributes zeros), waits
    /// for all sums and writes them into the parameters' `Parameter.grad`; then the buckets are
    /// ready for the next step.
    /// - Throws: the group's error if a sum failed.
    public func synchronize() throws(DataParallelError) {
        while nextToStart < buckets.count {
            start(nextToStart)
            nextToStart += 1
        }
        let waitStart = ContinuousClock.now
        var failure: DataParallelError?
        for b in buckets.indices {
            do {
                statistics.communicationSeconds += try buckets[b].pending!.wait()
            } catch {
                failure = failure ?? error
            }
        }
        let waited = ContinuousClock.now - waitStart
        statistics.exposedSeconds += Double(waited.components.seconds) + Double(waited.components.attoseconds) * 1e-18
        statistics.steps += 1
        defer { reset() }
        if let failure { throw failure }
        for bucket in buckets {
            for (member, offset) in zip(bucket.members, bucket.offsets) {
                let parameter = parameters[member]
                var grad = parameter.grad ?? Tensor(zeros: parameter.shape)
                grad.withUnsafeMutableBufferPointer { dst in
                    dst.baseAddress!.update(from: bucket.buffer.baseAddress! + offset, count: dst.count)
                }
                parameter.grad = grad
            }
        }
    }

    private func start(_ b: Int) {
        let bucket = buckets[b]
        for (member, offset) in zip(bucket.members, bucket.offsets) {
            let parameter = parameters[member]
            let dst = bucket.buffer.baseAddress! + offset
            if let grad = parameter.grad {
                grad.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: $0.count) }
            } else {
                dst.update(repeating: 0, count: parameter.value.count)
            }
        }
        buckets[b].pending = group.startAllReduceSum(bucket.buffer)
        statistics.reductions += 1
        statistics.bytes += bucket.buffer.count * 4
    }

    private func reset() {
        for b in buckets.indices {
            buckets[b].remaining = buckets[b].members.count
            buckets[b].pending = nil
        }
        for i in isReady.indices { isReady[i] = false }
        nextToStart = 0
    }
}
