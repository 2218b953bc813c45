import Foundation
import _CMPILoader

/// The ranks of a job started by `mpirun`, talking over Open MPI.
///
/// MPI is loaded at run time (`dlopen` of `libmpi.so.40`, or the library named by the
/// `AUDIOCNN_MPI_LIBRARY` environment variable): building the suite needs no MPI, and a process
/// not started by `mpirun` never loads it. Every MPI call runs on one thread of this group's
/// own, in the order the calls are made (MPI_THREAD_FUNNELED), so the caller can compute while
/// a started sum travels (``startAllReduceSum(_:)``).
///
/// A collective that waits longer than ``timeout`` for the other ranks (one of them stopped
/// or cut off without the launcher noticing) ends the whole job with `MPI_Abort` and a
/// message naming this rank and the operation, instead of hanging. A rank that dies is
/// `mpirun`'s to notice: it ends the job and names the rank.
///
/// ```swift
/// if let group = try MPIProcessGroup.fromEnvironment() {
///     print("rank \(group.rank) of \(group.size)")
///     defer { group.finalize() }
/// }
/// ```
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The longest a collective may wait for the other ranks before the job is aborted.
    public let timeout: Double
    /// MPI's own description of itself (`MPI_Get_library_version`).
    public let libraryVersion: String
    private let thread: MPIThread

    /// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun` with
    /// PMIx): Open MPI's `OMPI_COMM_WORLD_SIZE`, or PMIx's `PMIX_RANK`, is set.
    public static func isLaunchedByMPI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// The group of this job when the process was started by `mpirun`, else `nil`.
    /// - Parameters:
    ///   - timeout: seconds a collective may wait before the job is aborted.
    ///   - environment: the process environment (`AUDIOCNN_MPI_LIBRARY` names the library).
    /// - Throws: ``DataParallelError/unavailable(_:)`` when the launcher started this process
    ///   but MPI cannot be loaded or initialised (the message says what to install or set).
    public static func fromEnvironment(
        timeout: Double = 300, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DataParallelError) -> MPIProcessGroup? {
        guard isLaunchedByMPI(environment: environment) else { return nil }
        return try MPIProcessGroup(library: environment["AUDIOCNN_MPI_LIBRARY"] ?? "libmpi.so.40", timeout: timeout)
    }

    /// Loads `library`, initialises MPI on this group's thread and joins `MPI_COMM_WORLD`.
    /// - Throws: ``DataParallelError/unavailable(_:)`` when the library cannot be loaded, is not
    ///   Open MPI, or `MPI_Init_thread` fails; ``DataParallelError/invalidArgument(_:)`` for a
    ///   timeout that is not positive.
    public init(library: String = "libmpi.so.40", timeout: Double = 300) throws(DataParallelError) {
        guard timeout > 0, timeout.isFinite else {
            throw .invalidArgument("the collective time-out is \(timeout) s; it must be positive")
        }
        let thread = MPIThread()
        let world = try thread.start(library: library)
        self.thread = thread
        self.timeout = timeout
        rank = world.rank
        size = world.size
        libraryVersion = world.version
        thread.startWatchdog(timeout: timeout) { [rank, size] operation, waited in
            Self.abort(
                rank: rank, size: size,
                message: String(
                    format: "the %@ has waited %.0f s for the other ranks (time-out %.0f s): a rank is stopped or unreachable",
                    operation, waited, timeout))
        }
    }

    // MARK: - Collectives

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DataParallelError) {
        try startAllReduceSum(values).wait()
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DataParallelError) {
        nonisolated(unsafe) let values = values
        try thread.submit("allreduce of \(values.count) doubles") {
            cmpi_allreduce_sum_double(values.baseAddress, Int64(values.count))
        }.wait()
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(DataParallelError) {
        guard (0..<size).contains(root) else {
            throw .invalidArgument("broadcast root \(root) is not a rank of this group of \(size)")
        }
        nonisolated(unsafe) let bytes = bytes
        try thread.submit("broadcast of \(bytes.count) bytes from rank \(root)") {
            cmpi_broadcast_bytes(bytes.baseAddress, Int64(bytes.count), Int32(root))
        }.wait()
    }

    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) -> PendingReduction {
        nonisolated(unsafe) let values = values
        return thread.submit("allreduce of \(values.count) floats") {
            cmpi_allreduce_sum_float(values.baseAddress, Int64(values.count))
        }
    }

    /// Waits until every rank has called this.
    public func barrier() throws(DataParallelError) {
        try thread.submit("barrier") { cmpi_barrier() }.wait()
    }

    /// Ends every rank of the job at once (`MPI_Abort`) after printing `message` with this
    /// rank's number: for an error the other ranks cannot see, so that they do not wait for it.
    public func abort(message: String, code: Int32 = 1) -> Never {
        Self.abort(rank: rank, size: size, message: message, code: code)
    }

    private static func abort(rank: Int, size: Int, message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("audiocnn: rank \(rank) of \(size): \(message); ending the job\n".utf8))
        cmpi_abort(code)
        exit(code)
    }

    /// Leaves MPI (`MPI_Finalize`, after every collective started) and stops this group's
    /// thread. Call it once before the process exits normally: `mpirun` treats a rank that
    /// exits without it as failed. Later collectives fail.
    public func finalize() {
        thread.finish { cmpi_finalize() }
    }

    static func errorString(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &text, Int32(text.count))
        let message = string(text)
        return message.isEmpty ? "MPI error \(code)" : "\(message) (MPI error \(code))"
    }

    static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The one thread that makes MPI calls, in the order they are submitted, and a watchdog over it.
final class MPIThread: @unchecked Sendable {
    private struct Job {
        let operation: String
        let run: () -> Int32
        let pending: PendingReduction
    }

    private let state = ConditionVariable()
    private var jobs: [Job] = []
    private var stopping = false
    private var busySince: (started: Double, operation: String)?

    /// Starts the thread, which loads and initialises MPI before serving jobs.
    func start(library: String) throws(DataParallelError) -> (rank: Int, size: Int, version: String) {
        let started = ConditionVariable()
        nonisolated(unsafe) var outcome: Result<(rank: Int, size: Int, version: String), DataParallelError>?
        let thread = Thread { [self] in
            let result = Self.initialise(library: library)
            started.withLock {
                outcome = result
                started.broadcast()
            }
            if case .success = result { serve() }
        }
        thread.name = "audiocnn-mpi"
        thread.start()
        let result = started.withLock {
            while outcome == nil { started.wait() }
            return outcome!
        }
        return try result.get()
    }

    private static func initialise(library: String) -> Result<(rank: Int, size: Int, version: String), DataParallelError> {
        var message = [CChar](repeating: 0, count: 1024)
        guard cmpi_load(library, &message, message.count) == 0 else {
            return .failure(
                .unavailable(
                    "\(MPIProcessGroup.string(message)). Install Open MPI (Debian: apt-get install openmpi-bin), "
                        + "or name its libmpi with AUDIOCNN_MPI_LIBRARY"))
        }
        var provided: Int32 = 0
        let rc = cmpi_init(&provided)
        guard rc == 0 else { return .failure(.unavailable("MPI_Init_thread failed: \(MPIProcessGroup.errorString(rc))")) }
        var rank: Int32 = 0, size: Int32 = 0
        cmpi_comm_rank(&rank)
        cmpi_comm_size(&size)
        var version = [CChar](repeating: 0, count: 512)
        cmpi_library_version(&version, Int32(version.count))
        let text = MPIProcessGroup.string(version).trimmingCharacters(in: .whitespacesAndNewlines)
        return .success((Int(rank), Int(size), text))
    }

    /// Queues `run` (an MPI call returning its error code) behind every earlier job.
    func submit(_ operation: String, _ run: @escaping () -> Int32) -> PendingReduction {
        let pending = PendingReduction()
        let accepted = state.withLock { () -> Bool in
            guard !stopping else { return false }
            jobs.append(Job(operation: operation, run: run, pending: pending))
            state.broadcast()
            return true
        }
        if !accepted { pending.finish(.failure(.collectiveFailed("\(operation) after MPI was finalised"))) }
        return pending
    }

    /// Runs `last` after every queued job, then stops the thread and the watchdog.
    func finish(_ last: @escaping () -> Int32) {
        _ = try? submit("finalize", last).wait()
        state.withLock {
            stopping = true
            state.broadcast()
        }
    }

    private func serve() {
        while true {
            let next = state.withLock { () -> Job? in
                while jobs.isEmpty, !stopping { state.wait() }
                guard !jobs.isEmpty else { return nil }
                let job = jobs.removeFirst()
                busySince = (Self.now(), job.operation)
                return job
            }
            guard let job = next else { return }
            let started = Self.now()
            let rc = job.run()
            let seconds = Self.now() - started
            state.withLock { busySince = nil }
            job.pending.finish(
                rc == 0
                    ? .success(seconds)
                    : .failure(.collectiveFailed("\(job.operation): \(MPIProcessGroup.errorString(rc))")))
        }
    }

    /// Calls `overdue` (which does not return) once a job has run longer than `timeout` seconds.
    func startWatchdog(timeout: Double, overdue: @escaping @Sendable (String, Double) -> Never) {
        let thread = Thread { [self] in
            while true {
                let late = state.withLock { () -> (String, Double)?? in
                    if stopping { return .none }
                    _ = state.wait(seconds: 1)
                    guard let busy = busySince else { return .some(nil) }
                    let waited = Self.now() - busy.started
                    return .some(waited > timeout ? (busy.operation, waited) : nil)
                }
                guard let late else { return }
                if let (operation, waited) = late { overdue(operation, waited) }
            }
        }
        thread.name = "audiocnn-mpi-watchdog"
        thread.start()
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
