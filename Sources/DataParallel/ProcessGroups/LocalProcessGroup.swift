/// A process group of threads in one process: each member is one replica, driven by its own
/// thread. It runs the same collectives as ``MPIProcessGroup`` (sums in rank order, so every
/// member gets bit-identical results), which makes a data-parallel run testable without MPI.
///
/// ```swift
/// let members = try LocalProcessGroup.group(size: 2)
/// DispatchQueue.concurrentPerform(iterations: 2) { rank in train(replica: rank, group: members[rank]) }
/// ```
public final class LocalProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let meeting: Meeting

    /// `size` members of one group, indexed by rank.
    /// - Throws: ``DataParallelError/invalidArgument(_:)`` when `size` < 1.
    public static func group(size: Int) throws(DataParallelError) -> [LocalProcessGroup] {
        guard size >= 1 else { throw .invalidArgument("a process group needs at least 1 member, not \(size)") }
        let meeting = Meeting(size: size)
        return (0..<size).map { LocalProcessGroup(rank: $0, size: size, meeting: meeting) }
    }

    private init(rank: Int, size: Int, meeting: Meeting) {
        self.rank = rank
        self.size = size
        self.meeting = meeting
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DataParallelError) {
        try meeting.meet(rank: rank, operation: "allreduce of \(values.count) floats", UnsafeMutableRawBufferPointer(values)) {
            Self.sum($0, as: Float.self)
        }
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DataParallelError) {
        try meeting.meet(rank: rank, operation: "allreduce of \(values.count) doubles", UnsafeMutableRawBufferPointer(values)) {
            Self.sum($0, as: Double.self)
        }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(DataParallelError) {
        guard (0..<size).contains(root) else {
            throw .invalidArgument("broadcast root \(root) is not a rank of this group of \(size)")
        }
        try meeting.meet(rank: rank, operation: "broadcast of \(bytes.count) bytes from rank \(root)", bytes) { buffers in
            for (r, buffer) in buffers.enumerated() where r != root && buffer.count > 0 {
                buffer.copyMemory(from: UnsafeRawBufferPointer(buffers[root]))
            }
        }
    }

    /// Runs the sum at once (the member's thread waits for the others) and returns it finished.
    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction {
        let pending = PendingReduction()
        do {
            try allReduceSum(values)
            pending.finish(.success(0))
        } catch {
            pending.finish(.failure(error))
        }
        return pending
    }

    /// Every buffer replaced by the element-wise sum of all, added in rank order.
    private static func sum<T: FloatingPoint>(_ buffers: [UnsafeMutableRawBufferPointer], as: T.Type) {
        let typed = buffers.map { $0.bindMemory(to: T.self) }
        guard let first = typed.first else { return }
        for i in 0..<first.count {
            var total = first[i]
            for b in typed.dropFirst() { total += b[i] }
            for b in typed { b[i] = total }
        }
    }

    /// Where the members meet for one collective at a time.
    private final class Meeting: @unchecked Sendable {
        let size: Int
        let condition = ConditionVariable()
        var buffers: [UnsafeMutableRawBufferPointer?]
        var operations: [String?]
        var arrived = 0
        var generation = 0
        var failure: DataParallelError?

        init(size: Int) {
            self.size = size
            buffers = Array(repeating: nil, count: size)
            operations = Array(repeating: nil, count: size)
        }

        func meet(
            rank: Int, operation: String, _ buffer: UnsafeMutableRawBufferPointer,
            _ combine: ([UnsafeMutableRawBufferPointer]) -> Void
        ) throws(DataParallelError) {
            let result: DataParallelError? = condition.withLock {
                let myGeneration = generation
                buffers[rank] = buffer
                operations[rank] = operation
                arrived += 1
                if arrived == size {
                    let all = buffers.map { $0! }
                    if Set(operations.map { $0! }).count == 1 {
                        failure = nil
                        combine(all)
                    } else {
                        failure = .mismatch(
                            "the members called different collectives: "
                                + operations.enumerated().map { "rank \($0.offset): \($0.element!)" }.joined(separator: ", "))
                    }
                    arrived = 0
                    buffers = Array(repeating: nil, count: size)
                    operations = Array(repeating: nil, count: size)
                    generation += 1
                    condition.broadcast()
                    return failure
                }
                while generation == myGeneration { condition.wait() }
                return failure
            }
            if let result { throw result }
        }
    }
}
