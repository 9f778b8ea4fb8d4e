import Foundation
import MeanFieldModels

/// The image-classification side of ``TrainConfig``: tasks, the default Vision Transformer, and
/// the checks that keep regression and image keys apart.
extension TrainConfig {
    /// Image tasks: the datasets of `Sources/MeanFieldModels/Data/`, plus `synthetic-images` (generated
    /// class-dependent blobs, ``SyntheticImages``: no files needed; tests and quick trials).
    public static let imageTasks = ["fashion-mnist", "mnist", "cifar-10", "cifar-100", "synthetic-images"]

    /// Whether `task` is an image classification task (trained by ``ImageClassificationTask``).
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

    /// The defaults of an image task: the documented default ViT and its recipe, from the key table
    /// (``TrainKeys``, scope "image tasks"; synthetic-images has a smaller model and keeps α = 1, k = 1).
    ///
    /// D = 64, M = 8 factored heads of width d_h = 16, M′ = 256 ReLU units, L = 6 (the paper's depth,
    /// theory §1.5 C3), pre-norm (off-theory, §1.2), mean pooling; p = 7 on 28×28 images (16 tokens;
    /// p = 4 on 32×32, 64 tokens), residual steps 1/√L (α = ½); AdamW with η = 2e-3 for the particles
    /// and 8η for the ordinary parameters (embeddings, readout), a cosine schedule over the run, no
    /// weight decay, batches of 64, 20 epochs, a metrics line and a checkpoint every epoch. On the
    /// full Fashion-MNIST set this recipe reached 89.06% test accuracy in 7.7 minutes on one core
    /// (docs/experiments.md, E4). Every key can be overridden by a flag or a config file.
    public static func imageDefaults(task: String) -> TrainConfig { defaults(task: task, model: .transformer) }

    /// `resolved()` for image tasks: the run is given in epochs (`steps` does not apply; the key
    /// table keeps regression-only keys at their defaults).
    /// `checkModel` false: the network is a ResNet (``resolvedResNet(defaultThreads:)``), no ViT keys.
    func resolvedImageTask(defaultThreads: Int, checkModel: Bool = true) throws -> TrainConfig {
        var config = self
        guard epochs >= 1 else { throw RunError("--epochs must be ≥ 1 for --task \(task) (image runs are given in epochs)") }
        guard batchSize >= 0 else { throw RunError("--batch-size must be ≥ 0") }
        if subset > 0 && batchSize > subset {
            throw RunError("--batch-size \(batchSize) is larger than --subset \(subset); use at most \(subset) (0 = full batch)")
        }
        config.threads = threads ?? defaultThreads
        guard checkModel else { return config }
        guard let dimension = tokenDim else { throw RunError("--token-dim is required for --task \(task) (the default ViT has 64)") }
        config.headDim = headDim ?? dimension
        config.initStd = initStd ?? 1 / Double(dimension).squareRoot()
        try config.visionModel!.validate()
        return config
    }
}
