// One process's share of a batch in data-parallel training (docs/distributed.md): declared here, with
// the input pipeline that assembles only that share (BatchLoader), and used by the training tasks.
import MeanFieldCore

/// One rank's share of a batch in data-parallel training: the contiguous examples
/// ⌊B·index/count⌋ ..< ⌊B·(index + 1)/count⌋ of a batch of B (docs/distributed.md). The same split
/// gives a rank its heads and units of a layer in particle-parallel training (``ParticleShare``).
public struct BatchShard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0..<count).contains(index), "BatchShard: index \(index) of \(count)")
        (self.index, self.count) = (index, count)
    }

    /// The examples of this share in a batch of `total`.
    public func range(of total: Int) -> Range<Int> { total * index / count ..< total * (index + 1) / count }

    /// This share of `batch`'s leading axis; a one-line error when a share would be empty.
    public func slice<Scalar: TensorScalar>(_ batch: Tensor<Scalar>, what: String) throws -> Tensor<Scalar> {
        try checkNotEmpty(batchOf: batch.shape[0], what: what)
        return batch.slice(axis: 0, range(of: batch.shape[0]))
    }

    /// A one-line error when a batch of `total` (`what`: "images", "prompts") leaves some share empty.
    public func checkNotEmpty(batchOf total: Int, what: String) throws {
        guard total >= count else {
            throw RunError("--distributed data over \(count) processes: a batch has \(total) \(what), fewer than the processes; "
                           + "raise --batch-size (or the training set) to at least \(count), or start fewer processes")
        }
    }
}
