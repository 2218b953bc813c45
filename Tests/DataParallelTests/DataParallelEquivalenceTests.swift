import DataParallel
import Dispatch
import Foundation
import ResNetAudio
import TensorKit
import XCTest
import _Locking
import _TestSupport

/// Data parallelism over threads (LocalProcessGroup) against one process with the whole batch:
/// the single-process step (itself checked against PyTorch elsewhere) is the reference.
final class DataParallelEquivalenceTests: XCTestCase {
    /// A batch of 5 split 2/3 over two replicas, batch norm synchronised, gradients summed in
    /// several buckets during backward: the same gradients and batch-norm statistics as one
    /// process with all 5, to float rounding.
    func testTwoReplicasGiveTheGradientsOfTheWholeBatch() throws {
        let (input, labels) = Self.batch(count: 5)
        let reference = try Self.model()
        reference.train()
        crossEntropy(reference(input), labels: labels).backward()

        let replicas = try Self.trainReplicas(input: input, labels: labels, parts: [2, 3], synchronizeBatchNorm: true)
        for replica in replicas {
            try Self.assertGradients(of: replica.model, match: reference, tolerance: 2e-4)
            for ((name, a), (_, b)) in zip(replica.model.namedBuffers(), reference.namedBuffers()) {
                assertAllClose(a.value.scalars, b.value.scalars, rtol: 1e-4, name)
            }
        }
        // The buckets started during backward, in order, before it ended.
        XCTAssertGreaterThan(replicas[0].buckets.bucketCount, 3)
        XCTAssertEqual(replicas[0].buckets.statistics.reductions, replicas[0].buckets.bucketCount)
        XCTAssertEqual(replicas[0].buckets.statistics.bytes, reference.parameterCount * 4)
    }

    /// Without synchronised batch norm each replica normalises its own part (as PyTorch's DDP),
    /// which is another computation: the gradients differ from the whole batch's. This is what
    /// the test above would see if the statistics were not summed.
    func testPerReplicaBatchNormDiffersFromTheWholeBatch() throws {
        let (input, labels) = Self.batch(count: 4)
        let reference = try Self.model()
        reference.train()
        crossEntropy(reference(input), labels: labels).backward()
        let replicas = try Self.trainReplicas(input: input, labels: labels, parts: [2, 2], synchronizeBatchNorm: false)
        let a = replicas[0].model.parameters()[0].grad!.scalars, b = reference.parameters()[0].grad!.scalars
        let largest = zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
        XCTAssertGreaterThan(largest, 1e-2)
        // Both replicas still hold the same (summed) gradients.
        XCTAssertEqual(replicas[0].model.parameters()[0].grad!.scalars, replicas[1].model.parameters()[0].grad!.scalars)
    }

    func testBroadcastCopiesRankZerosStateAndBytes() throws {
        let members = try LocalProcessGroup.group(size: 3)
        nonisolated(unsafe) let models = try (0..<3).map { rank in try AudioCNN(config: .small(classes: 4), seed: UInt64(rank + 1)) }
        let received = Locked<[[UInt8]]>(Array(repeating: [], count: 3))
        let failures = Locked<[String]>([])
        runConcurrently(3) { rank in
            do {
                try members[rank].broadcastState(of: models[rank])
                let bytes = try members[rank].broadcast(bytes: rank == 0 ? Array("rank zero's state".utf8) : [])
                received.withLock { $0[rank] = bytes }
            } catch {
                failures.withLock { $0.append("\(rank): \(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        for model in models.dropFirst() {
            XCTAssertEqual(model.stateDict().mapValues(\.scalars), models[0].stateDict().mapValues(\.scalars))
        }
        XCTAssertEqual(received.withLock { $0 }, Array(repeating: Array("rank zero's state".utf8), count: 3))
    }

    func testMembersCallingDifferentCollectivesFail() throws {
        let members = try LocalProcessGroup.group(size: 2)
        let errors = Locked<[DataParallelError?]>([nil, nil])
        runConcurrently(2) { rank in
            var values = [Double](repeating: 1, count: rank + 1)
            do {
                try values.withUnsafeMutableBufferPointer { try members[rank].allReduceSum($0) }
            } catch {
                errors.withLock { $0[rank] = error as? DataParallelError }
            }
        }
        let reported = errors.withLock { $0 }
        for error in reported {
            guard case .mismatch(let text)? = error else { return XCTFail("expected a mismatch, got \(String(describing: error))") }
            XCTAssertTrue(text.contains("allreduce of 1 doubles") && text.contains("allreduce of 2 doubles"), text)
        }
    }

    func testMissingMPILibraryIsAClearError() {
        XCTAssertThrowsError(try MPIProcessGroup(library: "libmpi-that-does-not-exist.so.40")) { error in
            guard case .unavailable(let text) = error as? DataParallelError else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("libmpi-that-does-not-exist.so.40") && text.contains("openmpi-bin"), text)
        }
        XCTAssertFalse(MPIProcessGroup.isLaunchedByMPI(environment: ["PATH": "/usr/bin"]))
        XCTAssertTrue(MPIProcessGroup.isLaunchedByMPI(environment: ["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertNil(try MPIProcessGroup.fromEnvironment(environment: [:]))
    }

    // MARK: - Helpers

    struct Replica {
        let model: AudioCNN
        let buckets: GradientBuckets
    }

    static func model() throws -> AudioCNN {
        var config = AudioCNNConfig.small(classes: 4)
        config.dropout = 0
        return try AudioCNN(config: config, seed: 11)
    }

    static func batch(count: Int) -> (Tensor, [Int]) {
        var generator = RandomGenerator(seed: 5)
        let shape = [count, 1, 32, 40]
        let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) }
        return (try! Tensor(shape: shape, scalars: values), (0..<count).map { $0 % 4 })
    }

    /// One training step of a replica per part of `input`, each on its own thread.
    static func trainReplicas(input: Tensor, labels: [Int], parts: [Int], synchronizeBatchNorm: Bool) throws -> [Replica] {
        let members = try LocalProcessGroup.group(size: parts.count)
        nonisolated(unsafe) let replicas = try parts.indices.map { rank -> Replica in
            var config = AudioCNNConfig.small(classes: 4)
            config.dropout = 0
            let model = try AudioCNN(config: config, seed: UInt64(100 + rank))  // other weights until the broadcast
            model.train()
            members[rank].synchronizeBatchNorm(in: model, synchronizeBatchNorm)
            return Replica(model: model, buckets: GradientBuckets(parameters: model.parameters(), group: members[rank], bucketBytes: 4096))
        }
        nonisolated(unsafe) let reference = try model()
        let stride = input.count / input.shape[0]
        let scalars = input.scalars
        let failures = Locked<[String]>([])
        runConcurrently(parts.count) { rank in
            do {
                let replica = replicas[rank]
                // Rank 0 holds the reference's weights; the broadcast gives them to the others.
                if rank == 0 { try replica.model.loadStateDict(reference.stateDict(), strict: true) }
                try members[rank].broadcastState(of: replica.model)
                let start = parts[..<rank].reduce(0, +), count = parts[rank]
                var shape = input.shape
                shape[0] = count
                let part = try Tensor(shape: shape, scalars: Array(scalars[(start * stride)..<((start + count) * stride)]))
                let loss = crossEntropy(replica.model(part), labels: Array(labels[start..<(start + count)]))
                let share = Float(count) / Float(input.shape[0])
                loss.backward(gradient: Tensor(repeating: share, shape: loss.shape), onGradientReady: replica.buckets.gradientReady)
                try replica.buckets.synchronize()
            } catch {
                failures.withLock { $0.append("rank \(rank): \(error)") }
            }
        }
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else { throw DataParallelError.collectiveFailed(failed.joined(separator: "; ")) }
        return replicas
    }

    static func assertGradients(of model: AudioCNN, match reference: AudioCNN, tolerance: Float, line: UInt = #line) throws {
        for ((name, p), (_, q)) in zip(model.namedParameters(), reference.namedParameters()) {
            let a = try XCTUnwrap(p.grad, name).scalars, b = try XCTUnwrap(q.grad, name).scalars
            let scale = max(b.map(abs).max()!, 1e-12)
            let largest = zip(a, b).map { abs($0 - $1) }.max()! / scale
            XCTAssertLessThanOrEqual(largest, tolerance, "\(name): relative difference \(largest)", line: line)
        }
    }
}

/// Runs `body(0..<count)` on `count` threads at once (`DispatchQueue.concurrentPerform` runs at
/// most one per core, and the members of a group must all be running to meet) and waits.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            body(index)
            done.leave()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    done.wait()
}
