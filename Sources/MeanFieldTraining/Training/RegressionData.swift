import MeanFieldCore
import MeanFieldModels

/// The prompts of an in-context-regression run (theory §1.1) as pure functions of the seed and the
/// step, so that a resumed run sees exactly the batches an uninterrupted one would:
/// - the fixed training set: Philox stream 1,000,000; the evaluation set: stream 1,000,001
///   (drawn once, at the start);
/// - mini-batches: epoch e walks the permutation drawn from stream 2⁴⁰ + e, `batchSize` prompts per
///   step, dropping the last partial batch;
/// - fresh prompts (`trainSize` 0): step k draws its batch from stream 2⁴¹ + k.
/// Parameter streams (1, 2, … one per tensor, ``MeanFieldTransformer/initialParameters(seed:as:)``)
/// never meet these.
public struct RegressionData<Scalar: TensorScalar> {
    public static var trainStream: UInt64 { 1_000_000 }
    public static var evalStream: UInt64 { 1_000_001 }
    public static var orderStreamBase: UInt64 { 1 << 40 }
    public static var freshStreamBase: UInt64 { 1 << 41 }

    public let task: InContextRegression
    public let seed: UInt64
    public let batchSize: Int
    /// The fixed training set (nil with fresh prompts).
    public let train: (tokens: Tensor<Scalar>, targets: Tensor<Scalar>)?
    public let eval: (tokens: Tensor<Scalar>, targets: Tensor<Scalar>)
    private let trainBlocks: UInt64, evalBlocks: UInt64
    private var order: (epoch: Int, indices: [Int])?

    public init(config: TrainConfig) {
        task = InContextRegression(inputDimension: config.inputDim, examples: config.examples, noise: config.noise,
                                   tokenDimension: config.tokenDim ?? config.inputDim + 1)
        seed = config.seed
        batchSize = config.resolvedBatchSize
        if config.trainSize > 0 {
            var random = PhiloxRandom(seed: seed, stream: Self.trainStream)
            train = task.sample(config.trainSize, random: &random)
            trainBlocks = random.blockOffset
        } else {
            train = nil
            trainBlocks = 0
        }
        var random = PhiloxRandom(seed: seed, stream: Self.evalStream)
        eval = task.sample(config.evalSize, random: &random)
        evalBlocks = random.blockOffset
    }

    /// Prompts per pass over the training set.
    var stepsPerEpoch: Int { train.map { max(1, $0.targets.count / batchSize) } ?? 1 }

    /// The batch of step `step` (0-based): tokens `[B, D, N+1]`, targets `[B]`.
    public mutating func batch(step: Int) -> (tokens: Tensor<Scalar>, targets: Tensor<Scalar>) {
        guard let train else {
            var random = PhiloxRandom(seed: seed, stream: Self.freshStreamBase + UInt64(step))
            return task.sample(batchSize, random: &random)
        }
        let count = train.targets.count
        if batchSize == count { return train }
        let epoch = step / stepsPerEpoch, position = step % stepsPerEpoch
        if order?.epoch != epoch {
            var random = PhiloxRandom(seed: seed, stream: Self.orderStreamBase + UInt64(epoch))
            order = (epoch, Array(0..<count).shuffled(using: &random))
        }
        let indices = Array(order!.indices[(position * batchSize)..<((position + 1) * batchSize)])
        return (train.tokens.gathering(indices, alongAxis: 0), train.targets.gathering(indices, alongAxis: 0))
    }

    /// Where every random stream stands before step `step`, as JSON (recorded in checkpoints).
    public func randomState(beforeStep step: Int) -> String {
        let next: String
        if train == nil {
            next = "{\"kind\":\"fresh\",\"stream\":\(Self.freshStreamBase + UInt64(step)),\"block_offset\":0}"
        } else if batchSize == train!.targets.count {
            next = "{\"kind\":\"full-batch\"}"
        } else {
            next = "{\"kind\":\"permutation\",\"stream\":\(Self.orderStreamBase + UInt64(step / stepsPerEpoch)),\"epoch\":\(step / stepsPerEpoch),\"batch_in_epoch\":\(step % stepsPerEpoch)}"
        }
        return "{\"seed\":\(seed),\"parameters\":{\"streams_from\":1,\"block_offset\":0},"
            + "\"train_set\":{\"stream\":\(Self.trainStream),\"block_offset\":\(trainBlocks)},"
            + "\"eval_set\":{\"stream\":\(Self.evalStream),\"block_offset\":\(evalBlocks)},\"next_batch\":\(next)}"
    }
}
