import MeanFieldCore

/// One minibatch: images `[B, C, H, W]` (normalised, augmented when enabled), their labels, and their
/// positions in the dataset.
public struct Batch: Sendable, Equatable {
    public let images: Tensor<Float>
    public let labels: [Int]
    public let indices: [Int]
    public var count: Int { labels.count }
}

/// The input pipeline over one dataset: per epoch, an order (a seeded shuffle, or the dataset's order),
/// cut into batches that are normalised and augmented. Batch `k` of epoch `e` is a pure function of
/// (dataset, settings, seed, e, k), so synchronous and prefetched iteration give identical batches.
///
///     let loader = BatchLoader(dataset: train, batchSize: 128, normalization: .fitted(to: train), seed: 7)
///     for batch in loader.prefetchingBatches(epoch: 0) { … }   // prepared on a background thread
public struct BatchLoader: Sendable {
    public let dataset: Dataset
    public let batchSize: Int
    /// Shuffle the order each epoch (training) or keep the dataset's order (evaluation).
    public let shuffle: Bool
    /// Drop the last, smaller batch of an epoch.
    public let dropLast: Bool
    public let normalization: ChannelNormalization
    public let augmentation: Augmentation
    public let seed: UInt64
    private let assembler: BatchAssembler

    public init(dataset: Dataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
                normalization: ChannelNormalization, augmentation: Augmentation = .none, seed: UInt64) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(dataset.count > 0, "empty dataset")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.normalization = normalization
        self.augmentation = augmentation
        self.seed = seed
        self.assembler = BatchAssembler(dataset: dataset, normalization: normalization, augmentation: augmentation, seed: seed)
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? max(dataset.count / batchSize, 1) : (dataset.count + batchSize - 1) / batchSize
    }

    /// The order in which `epoch` visits the dataset (stream `DataStreams.shuffle(epoch:)`).
    public func order(epoch: Int) -> [Int] {
        shuffle ? SeededShuffle.permutation(count: dataset.count, seed: seed, stream: DataStreams.shuffle(epoch: epoch))
                : Array(0..<dataset.count)
    }

    /// Batch `number` of an epoch whose order is `order` (from `order(epoch:)`); with `shard`, only that
    /// share of it (data-parallel training: the other examples are never decoded, augmented or
    /// normalized here). Each image depends on (seed, epoch, dataset index) only, so a share equals
    /// the same rows of the whole batch.
    public func batch(_ number: Int, of order: [Int], epoch: Int, shard: BatchShard? = nil) -> Batch {
        precondition((0..<batchCount).contains(number), "batch \(number) outside 0..<\(batchCount)")
        var indices = Array(order[number * batchSize..<min((number + 1) * batchSize, order.count)])
        if let shard { indices = Array(indices[shard.range(of: indices.count)]) }
        return Batch(images: assembler.images(indices: indices, epoch: epoch),
                     labels: indices.map { dataset.labels[$0] }, indices: indices)
    }

    /// The batches of `epoch`, prepared on the calling thread as they are asked for.
    public func batches(epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch)
    }

    /// The batches of `epoch` from batch number `first` on, prepared on a background thread up to
    /// `depth` ahead of the consumer (`first` > 0: a run resumed in the middle of an epoch); with
    /// `shard`, each batch's share only (see `batch(_:of:epoch:shard:)`).
    public func prefetchingBatches(epoch: Int, from first: Int = 0, depth: Int = 2, shard: BatchShard? = nil) -> PrefetchingBatches {
        PrefetchingBatches(loader: self, epoch: epoch, first: first, depth: depth, shard: shard)
    }
}

/// The batches of one epoch, computed on demand on the calling thread.
public struct EpochBatches: Sequence, IteratorProtocol {
    let loader: BatchLoader
    let epoch: Int
    let order: [Int]
    var position = 0

    init(loader: BatchLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
    }

    public mutating func next() -> Batch? {
        guard position < loader.batchCount else { return nil }
        defer { position += 1 }
        return loader.batch(position, of: order, epoch: epoch)
    }
}
