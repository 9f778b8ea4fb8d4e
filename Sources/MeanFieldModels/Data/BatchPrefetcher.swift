import Foundation

/// The batches of one epoch, prepared on a background thread while the caller computes: a producer
/// `Thread` makes batches first, first + 1, … in order into a queue of at most `depth` batches (bounded memory)
/// and waits while it is full; `next()` waits for the next batch. The order is fixed by the batch
/// number, never by timing, so the sequence equals `BatchLoader.batches(epoch:)`. Dropping the
/// sequence early stops the producer after its current batch.
public final class PrefetchingBatches: Sequence, IteratorProtocol {
    private let queue: BatchQueue
    private var delivered = 0
    private let total: Int

    init(loader: BatchLoader, epoch: Int, first: Int, depth: Int, shard: BatchShard?) {
        precondition(depth >= 1, "prefetch depth must be at least 1")
        precondition((0...loader.batchCount).contains(first), "first batch \(first) outside 0...\(loader.batchCount)")
        total = loader.batchCount - first
        let queue = BatchQueue(capacity: depth)
        self.queue = queue
        let thread = Thread {
            let order = loader.order(epoch: epoch)
            for number in first..<loader.batchCount {
                let batch = loader.batch(number, of: order, epoch: epoch, shard: shard)
                guard queue.put(batch) else { return }  // cancelled
            }
        }
        thread.name = "meanfield.prefetch"
        thread.start()
    }

    deinit { queue.cancel() }

    public func next() -> Batch? {
        guard delivered < total else { return nil }
        delivered += 1
        return queue.take()
    }
}

/// A bounded first-in first-out queue of batches between one producer and one consumer, guarded by
/// an `NSCondition` (all state is read and written under its lock, hence `@unchecked Sendable`).
final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Batch] = []
    private var cancelled = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Appends `batch`, waiting while the queue is full; false when the consumer has gone.
    func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(batch)
        condition.broadcast()
        return true
    }

    /// Removes the oldest batch, waiting until there is one.
    func take() -> Batch {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Wakes and stops the producer.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
