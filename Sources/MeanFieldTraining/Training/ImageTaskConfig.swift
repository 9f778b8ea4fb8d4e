import Foundation
import MeanFieldModels

/// The image-classification side of ``TrainConfig``: tasks, the default Vision Transformer, and
/// the checks that keep regression and image keys apart.
extension TrainConfig {
    /// Image tasks: the datasets of `Sources/MeanFieldModels/Data/`, plus `synthetic-images` (generated
    /// class-dependent blobs, ``SyntheticImages``: no files needed; tests and quick trials).
    public static let imageTasks = ["fashion-mnist", "mnist", "cifar-10", "cifar-100", "synthetic-images"]

    /// Whether `task` is an image classification task (trained by ``ImageTrainer``).
    public var isImageTask: Bool { Self.imageTasks.contains(task) }

    /// The dataset of an image task (nil for `synthetic-images` and regression).
    public var datasetName: DatasetName? { DatasetName(rawValue: task) }

    /// Channels, height, width and classes of the task's images.
    public var imageShape: (channels: Int, height: Int, width: Int, classes: Int) {
        switch task {
        case "cifar-10": return (3, 32, 32, 10)
        case "cifar-100": return (3, 32, 32, 100)
        case "synthetic-images": return SyntheticImages.shape
        default: return (1, 28, 28, 10)
        }
    }

    /// The Vision Transformer of an image task (nil for regression).
    public var visionModel: VisionTransformerConfig? {
        guard isImageTask, model == .transformer else { return nil }
        let shape = imageShape
        return VisionTransformerConfig(channels: shape.channels, height: shape.height, width: shape.width, patch: patch,
                                       classToken: classToken, classes: shape.classes, transformer: transformer)
    }

    /// The defaults of an image task: the documented default ViT for Fashion-MNIST (and the others).
    ///
    /// p = 4 → 49 tokens of 28×28 images (64 of 32×32), D = 64, M = 8 factored heads of width
    /// d_h = 16, M′ = 256 ReLU units, L = 6 (the paper's depth, theory §1.5 C3), pre-norm (off-theory,
    /// §1.2), mean pooling; AdamW, η = 4e-3 with a cosine schedule over the run, no weight decay,
    /// batches of 64, 10 epochs, a metrics line and a checkpoint every epoch (η = 1e-3 constant
    /// reached only 86% training accuracy in 30 epochs on a 2,000-image subset; see docs/experiments.md). About 140 MFLOP per image per training step
    /// (forward + backward). Every key can be overridden by a flag or a config file.
    public static func imageDefaults(task: String) -> TrainConfig {
        var config = TrainConfig()
        config.task = task
        config.tokenDim = 64
        config.heads = 8
        config.attention = .factored
        config.headDim = 16
        config.ffnUnits = 256
        config.layers = 6
        config.preNorm = true
        config.optimizer = .adamw
        config.lr = 4e-3
        config.schedule = .cosine
        config.batchSize = 64
        config.epochs = 10
        config.logEvery = 0
        config.logEveryEpochs = 1
        config.checkpointEvery = 0
        config.checkpointEveryEpochs = 1
        if task == "synthetic-images" {
            config.patch = 4
            config.tokenDim = 16
            config.heads = 4
            config.headDim = 8
            config.ffnUnits = 32
            config.layers = 2
            config.batchSize = 20
            config.lr = 1e-2
            config.schedule = .constant
        }
        return config
    }

    /// `resolved()` for image tasks: the run is given in epochs (`steps` is unused and ignored),
    /// logs and checkpoints default to once per epoch (`log-every-epochs`, `checkpoint-every-epochs`), and regression-only keys must keep their defaults.
    /// `checkModel` false: the network is a ResNet (``resolvedResNet(defaultThreads:)``), no ViT keys.
    func resolvedImageTask(defaultThreads: Int, checkModel: Bool = true) throws -> TrainConfig {
        var config = self
        let plain = TrainConfig()
        let regressionOnly: [(String, Bool)] = [
            ("input-dim", inputDim != plain.inputDim), ("examples", examples != plain.examples), ("noise", noise != plain.noise),
            ("train-size", trainSize != plain.trainSize), ("eval-size", evalSize != plain.evalSize),
        ]
        if let (flag, _) = regressionOnly.first(where: { $0.1 }) {
            let network = model == .transformer ? "a Vision Transformer" : "a ResNet on flattened images"
            throw RunError("--\(flag) applies to regression tasks only; --task \(task) trains \(network) (use --subset to shrink the training set)")
        }
        guard epochs >= 1 else { throw RunError("--epochs must be ≥ 1 for --task \(task) (image runs are given in epochs)") }
        guard batchSize >= 0 else { throw RunError("--batch-size must be ≥ 0") }
        if subset > 0 && batchSize > subset {
            throw RunError("--batch-size \(batchSize) is larger than --subset \(subset); use at most \(subset) (0 = full batch)")
        }
        if schedule == .warmup && warmupSteps == 0 { throw RunError("--schedule warmup needs --warmup-steps ≥ 1") }
        if data != nil && task == "synthetic-images" { throw RunError("--data does not apply to --task synthetic-images (generated images)") }
        config.threads = threads ?? defaultThreads
        guard checkModel else { return config }
        guard let dimension = tokenDim else { throw RunError("--token-dim is required for --task \(task) (the default ViT has 64)") }
        config.headDim = headDim ?? dimension
        config.initStd = initStd ?? 1 / Double(dimension).squareRoot()
        try config.visionModel!.validate()
        return config
    }

    /// Regression runs reject the image keys (one line naming the flag).
    func checkNoImageKeys() throws {
        let plain = TrainConfig()
        let imageOnly: [(String, Bool)] = [
            ("data", data != nil), ("subset", subset != plain.subset), ("test-subset", testSubset != plain.testSubset),
            ("patch", patch != plain.patch), ("class-token", classToken), ("augment", augment),
        ]
        if let (flag, _) = imageOnly.first(where: { $0.1 }) {
            throw RunError("--\(flag) applies to image tasks (--task \(Self.imageTasks.joined(separator: "|"))), not to \(task)")
        }
    }
}
