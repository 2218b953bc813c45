import ArgumentParser
import DataParallel
import Foundation
import Training

/// The options of a data-parallel run (`mpirun -np N audiocnn train ...`); without `mpirun`
/// they change nothing.
struct DataParallelOptions: ParsableArguments {
    @Flag(
        name: .customLong("sync-bn"),
        help: "Under mpirun: batch norm with the statistics of the whole global batch (as SyncBatchNorm), not each rank's part.")
    var syncBatchNorm = false
    @Option(name: .customLong("bucket-mb"), help: "Under mpirun: megabytes of gradients summed per allreduce (as DDP's bucket_cap_mb).")
    var bucketMB: Double = 25
    @Option(
        name: .customLong("collective-timeout"),
        help: "Under mpirun: seconds a rank waits in one collective for the others before it ends the job.")
    var collectiveTimeout: Double = 300

    func validate() throws {
        guard bucketMB > 0, bucketMB.isFinite else { throw ValidationError("--bucket-mb must be positive, not \(bucketMB)") }
        guard collectiveTimeout > 0, collectiveTimeout.isFinite else {
            throw ValidationError("--collective-timeout must be positive, not \(collectiveTimeout)")
        }
    }

    /// This job's MPI group when `mpirun` started the process, else `nil`.
    func group() throws -> MPIProcessGroup? {
        try MPIProcessGroup.fromEnvironment(timeout: collectiveTimeout)
    }

    /// The trainer's settings for `group`.
    func training(_ group: (any ProcessGroup)?) -> DataParallelTraining? {
        group.map {
            DataParallelTraining(group: $0, synchronizeBatchNorm: syncBatchNorm, bucketBytes: Int(bucketMB * 1_048_576))
        }
    }

    /// Runs `body` as one rank of the job: an error on one rank ends them all at once with its
    /// message (MPI_Abort), and a normal end leaves MPI as `mpirun` expects (MPI_Finalize).
    static func run<T>(in group: MPIProcessGroup?, _ body: () throws -> T) throws -> T {
        guard let group else { return try body() }
        let result: T
        do {
            result = try body()
        } catch {
            group.abort(message: "\(error)")
        }
        group.finalize()
        return result
    }
}
