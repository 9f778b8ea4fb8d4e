import Foundation
import MeanFieldCore
import MeanFieldModels

/// Image classification (`meanfield train --task fashion-mnist|mnist|cifar-10|cifar-100|synthetic-images`):
/// a ``VisionTransformer`` (theory §1.5, claim C3) or a mean-field ResNet on flattened images
/// (theory §4–5), over a (class-balanced subset of the) training set for a number of epochs.
///
/// Step k trains on batch k mod S of epoch ⌊k/S⌋ + 1 (S batches per epoch, the last partial one
/// dropped; epoch e's order is the shuffle (seed, e)). A metrics line of θ_k evaluates the whole
/// training and test sets (no augmentation): train_loss, train_acc, test_loss, test_acc and
/// Q = train_loss + (λ/2)|θ|². At the end it writes `confusion.json` (test set) and prints the matrix.
/// `Scalar` is the run's precision (``TrainConfig/precision``): the pipeline's Float batches are
/// widened to it.
public struct ImageClassificationTask<Scalar: TensorScalar>: TrainingTask {
    public let config: TrainConfig
    public let splits: DatasetSplits
    public var engine: EngineKind
    /// This rank's share of the ViT's heads and units (`--distributed particle`), set before ``prepare()``.
    public var particles: ParticleShare?
    public var lossName: String { "training loss" }
    public var lossSymbol: String { "loss" }
    public var logsTrainingSeconds: Bool { true }

    private var model: (any ImageClassifier<Scalar>)?
    private var evaluator: (any ImageClassifier<Scalar>)?
    private var loader: BatchLoader?
    private var trainEvaluation: BatchLoader?, testEvaluation: BatchLoader?
    /// The prefetching sequence in use: its epoch, the next batch number, and the share it assembles
    /// (nil: whole batches).
    private var batches: (epoch: Int, next: Int, shard: BatchShard?, sequence: PrefetchingBatches)?
    private var testConfusion: ConfusionMatrix?
    private let penalty: GradientFlow

    /// `splits`: the full training and test sets; the task takes `--subset`/`--test-subset` of them.
    public init(config: TrainConfig, splits: DatasetSplits) {
        self.config = config
        self.splits = splits
        engine = config.engine
        penalty = GradientFlow(learningRate: 0, weightDecay: config.weightDecay)
    }

    /// The training and test sets of `config` (read from disk, or generated for synthetic-images).
    public static func loadSplits(_ config: TrainConfig) throws -> DatasetSplits {
        if config.task == "synthetic-images" { return SyntheticImages.splits(seed: config.seed) }
        guard let name = config.datasetName else { throw RunError("--task \(config.task) is not an image task") }
        return try DatasetLoader.load(name, dataDirectory: config.data)
    }

    public mutating func prepare() throws -> TaskPlan {
        guard let model: any ImageClassifier<Scalar> = config.imageClassifier(engine: engine, particles: particles),
              let evaluator: any ImageClassifier<Scalar> = config.imageClassifier(engine: engine, particles: particles) else {
            throw RunError("--task \(config.task) is not an image task")
        }
        let shape = config.imageShape
        guard splits.train.imageShape == [shape.channels, shape.height, shape.width], splits.train.classCount == shape.classes else {
            throw RunError("\(splits.directory): images are \(splits.train.imageShape) in \(splits.train.classCount) classes; --task \(config.task) expects [\(shape.channels), \(shape.height), \(shape.width)] in \(shape.classes)")
        }
        let train = config.subset > 0 ? try splits.train.classBalancedSubset(size: config.subset, seed: config.seed) : splits.train
        let test = config.testSubset > 0 ? try splits.test.classBalancedSubset(size: config.testSubset, seed: config.seed) : splits.test
        let batchSize = config.batchSize == 0 ? train.count : config.batchSize
        guard batchSize <= train.count else {
            throw RunError("--batch-size \(batchSize) is larger than the \(train.count) training images; use at most \(train.count)")
        }
        let normalization = ChannelNormalization.fitted(to: train)
        let augmentation = config.augment ? Augmentation(cropPadding: shape.height >= 32 ? 4 : 2, horizontalFlip: true) : .none
        let loader = BatchLoader(dataset: train, batchSize: batchSize, shuffle: true, dropLast: true,
                                 normalization: normalization, augmentation: augmentation, seed: config.seed)
        (self.model, self.evaluator, self.loader) = (model, evaluator, loader)
        trainEvaluation = BatchLoader(dataset: train, batchSize: batchSize, shuffle: false, normalization: normalization, seed: config.seed)
        testEvaluation = BatchLoader(dataset: test, batchSize: batchSize, shuffle: false, normalization: normalization, seed: config.seed)
        return TaskPlan(totalSteps: config.epochs * loader.batchCount, stepsPerEpoch: loader.batchCount)
    }

    public func initialParameters() -> ParameterStore<Scalar> { model!.initialParameters(seed: config.seed) }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let batch = nextBatch(step: step)
        return model!.riskAndGradients(store, images: Self.images(batch.images), labels: batch.labels)
    }

    /// Step k's batch: batch k mod S of epoch ⌊k/S⌋ + 1, from the prefetching pipeline; with `shard`,
    /// only that share of it is assembled (data-parallel training).
    private mutating func nextBatch(step: Int, shard: BatchShard? = nil) -> (images: Tensor<Float>, labels: [Int]) {
        let loader = loader!
        let epoch = step / loader.batchCount + 1, number = step % loader.batchCount
        if batches?.epoch != epoch || batches?.next != number || batches?.shard != shard {
            batches = (epoch, number, shard, loader.prefetchingBatches(epoch: epoch, from: number, shard: shard))
        }
        let batch = batches!.sequence.next()!
        batches!.next += 1
        return (batch.images, batch.labels)
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, step: Int, shard: BatchShard) throws -> (risk: Double, gradients: [Tensor<Scalar>], examples: Int) {
        try shard.checkNotEmpty(batchOf: loader!.batchSize, what: "images")
        let batch = nextBatch(step: step, shard: shard)  // this process's rows only, assembled by the pipeline
        let (risk, gradients) = model!.riskAndGradients(store, images: Self.images(batch.images), labels: batch.labels)
        return (risk, gradients, batch.labels.count)
    }

    /// A batch of the input pipeline (Float) in the run's scalar type.
    private static func images(_ images: Tensor<Float>) -> Tensor<Scalar> {
        (images as? Tensor<Scalar>) ?? images.converted(to: Scalar.self)
    }

    /// Loss and accuracy of θ on every image of `loader`'s set, counting into `confusion`.
    private mutating func evaluate(_ store: ParameterStore<Scalar>, _ loader: BatchLoader, confusion: inout ConfusionMatrix) -> (loss: Double, accuracy: Double) {
        var total = 0.0, correct = 0
        for batch in loader.batches(epoch: 0) {
            let (risk, logits) = evaluator!.evaluate(store, images: Self.images(batch.images), labels: batch.labels)
            total += risk * Double(batch.count)
            let classes = logits.shape[1]
            logits.withUnsafeBufferPointer { values in
                for (row, label) in batch.labels.enumerated() {
                    var best = 0
                    for c in 1..<classes where values[row * classes + c] > values[row * classes + best] { best = c }
                    if best == label { correct += 1 }
                    confusion.counts[label][best] += 1
                }
            }
        }
        return (total / Double(loader.dataset.count), Double(correct) / Double(loader.dataset.count))
    }

    public mutating func metrics(_ store: ParameterStore<Scalar>, step: Int, batchRisk: Double) -> TaskMetrics {
        var trainConfusion = ConfusionMatrix(classNames: trainEvaluation!.dataset.classNames, set: "train")
        var testConfusion = ConfusionMatrix(classNames: testEvaluation!.dataset.classNames, set: "test")
        let train = evaluate(store, trainEvaluation!, confusion: &trainConfusion)
        let test = evaluate(store, testEvaluation!, confusion: &testConfusion)
        self.testConfusion = testConfusion
        return TaskMetrics(numbers: ["train_loss": train.loss, "train_acc": train.accuracy, "test_loss": test.loss,
                                     "test_acc": test.accuracy, "Q": penalty.objective(risk: train.loss, store: store)])
    }

    public func randomState(beforeStep step: Int) -> String {
        // Whole epochs done ({"epoch": e}), or inside epoch e after b batches ({"epoch": e, "batch": b}).
        let perEpoch = loader!.batchCount, batch = step % perEpoch
        return batch == 0 ? "{\"seed\":\(config.seed),\"epoch\":\(step / perEpoch)}"
            : "{\"seed\":\(config.seed),\"epoch\":\(step / perEpoch + 1),\"batch\":\(batch)}"
    }

    public func consoleLine(step: Int, numbers: [String: Double]) -> String? {
        String(format: "epoch %6.4g  t=%.4g  train loss %.4g acc %.2f%%  test loss %.4g acc %.2f%%%@", numbers["epoch"] ?? 0, numbers["t"] ?? 0,
               numbers["train_loss"] ?? .nan, 100 * (numbers["train_acc"] ?? .nan), numbers["test_loss"] ?? .nan,
               100 * (numbers["test_acc"] ?? .nan), numbers["train_seconds"].map { String(format: "  (%.1f s)", $0) } ?? "")
    }

    public mutating func finish(directory: RunDirectory, printReport: Bool) throws {
        guard let testConfusion else { return }
        try directory.writeConfusion(testConfusion)
        if printReport {
            let test = testEvaluation!.dataset
            print("Confusion matrix (\(test.name) test set, \(test.count) images; rows: true class, columns: predicted):")
            print(testConfusion.table)
        }
    }
}

/// The image-classification run of `meanfield train --task <image task>` in float32
/// (`TrainingRun<ImageClassificationTask<Double>>` for `--precision float64`).
public typealias ImageTrainer = TrainingRun<ImageClassificationTask<Float>>

extension TrainingRun {
    /// A run of image classification on `splits` (the full sets; `--subset` is taken by the task).
    public init<Scalar>(config: TrainConfig, splits: DatasetSplits) where Task == ImageClassificationTask<Scalar> {
        self.init(task: ImageClassificationTask(config: config, splits: splits))
    }

    public static func loadSplits<Scalar>(_ config: TrainConfig) throws -> DatasetSplits where Task == ImageClassificationTask<Scalar> {
        try ImageClassificationTask<Scalar>.loadSplits(config)
    }
}
