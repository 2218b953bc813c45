import Foundation

/// The batches of one epoch, computed by background threads at most
/// ``DataLoader/Configuration/prefetch`` batches ahead of the consumer and handed out in order.
///
/// Call ``next()`` until it returns `nil`. Releasing the object (or ``cancel()``) stops the
/// background threads after the batch each is working on.
public final class EpochBatches: Sendable {
    /// The epoch these batches belong to.
    public let epoch: Int
    /// The number of batches in the epoch.
    public let count: Int
    private let state: State

    init(loader: DataLoader, epoch: Int) {
        self.epoch = epoch
        self.count = loader.batchesPerEpoch
        let order = loader.order(ofEpoch: epoch)
        state = State(count: count, prefetch: loader.configuration.prefetch)
        let workers = min(loader.configuration.workers, max(count, 1))
        for worker in 0..<workers {
            let state = self.state
            let thread = Thread {
                state.work { index throws(DataLoaderError) in
                    try loader.makeBatch(epoch: epoch, index: index, order: order)
                }
            }
            thread.name = "ESC50.DataLoader.epoch\(epoch).worker\(worker)"
            thread.start()
        }
    }

    deinit { state.cancel() }

    /// The next batch, waiting for it if it is not ready; `nil` after the last batch.
    /// - Throws: ``DataLoaderError/itemFailed(_:reason:)`` when an item of the batch failed.
    public func next() throws(DataLoaderError) -> Batch? {
        try state.take()
    }

    /// Stops the background threads; ``next()`` returns `nil` afterwards.
    public func cancel() { state.cancel() }

    /// The total time ``next()`` has spent waiting for batches not yet ready, in seconds: near
    /// zero when the loader keeps ahead of training.
    public var waitTime: Double { state.waitSeconds }

    /// The number of batches the background threads have started, for tests and diagnostics.
    var startedBatches: Int { state.started }

    /// Shared between the consumer and the workers; every field is guarded by `condition`.
    private final class State: @unchecked Sendable {
        private let condition = NSCondition()
        private let count: Int
        private let prefetch: Int
        private var nextToStart = 0
        private var nextToTake = 0
        private var ready: [Int: Result<Batch, DataLoaderError>] = [:]
        private var cancelled = false
        private var waited: Double = 0

        init(count: Int, prefetch: Int) {
            self.count = count
            self.prefetch = prefetch
        }

        var started: Int { condition.withLock { nextToStart } }
        var waitSeconds: Double { condition.withLock { waited } }

        func work(_ make: (Int) throws(DataLoaderError) -> Batch) {
            while true {
                condition.lock()
                // A worker may start batch i only while i is within `prefetch` of the consumer.
                while !cancelled && nextToStart < count && nextToStart >= nextToTake + prefetch {
                    condition.wait()
                }
                if cancelled || nextToStart >= count {
                    condition.unlock()
                    return
                }
                let index = nextToStart
                nextToStart += 1
                condition.unlock()

                let result: Result<Batch, DataLoaderError>
                do throws(DataLoaderError) {
                    result = .success(try make(index))
                } catch {
                    result = .failure(error)
                }
                condition.withLock {
                    ready[index] = result
                    condition.broadcast()
                }
            }
        }

        func take() throws(DataLoaderError) -> Batch? {
            condition.lock()
            defer { condition.unlock() }
            guard !cancelled, nextToTake < count else { return nil }
            var start: DispatchTime? = nil
            while ready[nextToTake] == nil && !cancelled {
                if start == nil { start = .now() }
                condition.wait()
            }
            if let start {
                waited += Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            }
            guard let result = ready.removeValue(forKey: nextToTake) else { return nil }
            nextToTake += 1
            condition.broadcast()
            if case .failure = result {
                // The epoch cannot continue in order past a failed batch.
                cancelled = true
                condition.broadcast()
            }
            return try result.get()
        }

        func cancel() {
            condition.withLock {
                cancelled = true
                condition.broadcast()
            }
        }
    }
}
