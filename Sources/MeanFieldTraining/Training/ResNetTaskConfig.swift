import Foundation
import MeanFieldModels

/// The network a `meanfield train` run trains.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// The mean-field Transformer (theory §1) or, for image tasks, the Vision Transformer.
    case transformer
    /// Mean-field ResNet with two-layer blocks (theory §4).
    case resnet
    /// Mean-field ResNet with random-Fourier-feature blocks (theory §5).
    case rffResnet = "rff-resnet"
}

/// The ResNet side of ``TrainConfig``: the generated regression task, the defaults, and the checks
/// that keep Transformer and ResNet keys apart.
extension TrainConfig {
    /// A generated regression task for ResNets: x ~ N(0, I_d), y from a fixed random teacher
    /// (``TeacherRegression``); square loss, so the PL bound of theory §4 applies.
    public static let teacherRegressionTask = "teacher-regression"
    /// The largest training set whose NTK Gram matrix `--ntk-every` computes (n² memory, n³ time).
    public static let largestNTKTrainSize = 1000

    /// The ResNet of this config (nil for the Transformer). Image tasks read flattened images.
    public var resNet: ResNetConfig? {
        guard model != .transformer else { return nil }
        let input: Int, outputs: Int
        if isImageTask {
            let shape = imageShape
            (input, outputs) = (shape.channels * shape.height * shape.width, shape.classes)
        } else {
            (input, outputs) = (inputDim, 1)
        }
        return ResNetConfig(inputDimension: input, hiddenDimension: hiddenDim, layers: layers, units: units,
                            block: model == .resnet ? .twoLayer : .randomFeatures, activation: activation,
                            featureMap: featureMap, featureScale: featureScale, outputs: outputs,
                            residualExponent: residualExponent, initStd: initStd)
    }

    /// The defaults of a ResNet run, from the key table (``TrainKeys``). teacher-regression: d = 10,
    /// n = 50 training and 500 evaluation points, D = 16, M = 32, L = 10, tanh units (two-layer blocks:
    /// the PL argument needs a smooth σ; with ReLU the flow slides along activation boundaries of the
    /// 50 points and decays slower than its one-sided NTK says), Euler gradient flow (the PL bound is
    /// about the flow) with η = 0.05 for 4,000 steps (t = 200), NTK every 200 steps: λ_min(K) stays
    /// clear of 0 and R falls linearly at about the PL rate (docs/e7-resnets.md; with d = 2 the Gram
    /// matrix of 100 points is numerically singular). Images: D = 64, M = 64, L = 10, AdamW η = 1e-3
    /// cosine, batches of 128, 5 epochs.
    public static func resNetDefaults(task: String, model: ModelKind) -> TrainConfig { defaults(task: task, model: model) }

    /// `resolved()` for ResNets (the key table keeps Transformer-only keys at their defaults).
    func resolvedResNet(defaultThreads: Int) throws -> TrainConfig {
        var config = self
        if isImageTask {
            config = try resolvedImageTask(defaultThreads: defaultThreads, checkModel: false)
        } else {
            guard trainSize >= 1 else { throw RunError("--train-size must be ≥ 1 for --task teacher-regression (a fixed set of points)") }
            guard batchSize <= trainSize else {
                throw RunError("--batch-size \(batchSize) is larger than --train-size \(trainSize); use at most \(trainSize) (0 = full batch)")
            }
            if ntkEvery > 0 && trainSize > Self.largestNTKTrainSize {
                throw RunError("--ntk-every computes the \(trainSize)×\(trainSize) NTK Gram matrix and its eigenvalues; use --train-size ≤ \(Self.largestNTKTrainSize) or --ntk-every 0")
            }
            config.threads = threads ?? defaultThreads
        }
        config.epochsGivenWithSteps = false
        return config
    }
}
