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

    /// The defaults of a ResNet run. teacher-regression: d = 10, n = 50 training and 500 evaluation
    /// points, D = 16, M = 32, L = 10, tanh units (two-layer blocks), Euler gradient flow (the PL bound is about the flow) with
    /// η = 0.05 for 4,000 steps (t = 200), NTK every 200 steps: λ_min(K) stays clear of 0 and R falls
    /// linearly at about the PL rate (docs/e7-resnets.md; with d = 2 the Gram matrix of 100 points
    /// is numerically singular). Images: D = 64, M = 64, L = 10, AdamW η = 1e-3
    /// cosine, batches of 128, 5 epochs.
    public static func resNetDefaults(task: String, model: ModelKind) -> TrainConfig {
        var config = TrainConfig()
        config.task = task
        config.model = model
        config.layers = 10
        if config.isImageTask {
            config = TrainConfig.imageDefaults(task: task)
            config.model = model
            (config.tokenDim, config.heads, config.headDim, config.ffnUnits, config.preNorm) = (nil, TrainConfig().heads, nil, TrainConfig().ffnUnits, false)
            config.attention = TrainConfig().attention
            config.hiddenDim = 64
            config.units = 64
            config.layers = 10
            config.lr = 1e-3
            config.batchSize = 128
            config.epochs = 5
            if task == "synthetic-images" { (config.hiddenDim, config.units, config.layers, config.batchSize) = (16, 16, 4, 20) }
        } else {
            // tanh: the PL argument needs a smooth σ; with ReLU the flow slides along activation
            // boundaries of the 50 points and decays slower than its one-sided NTK says (docs/e7-resnets.md).
            if model == .resnet { config.activation = .tanh }
            config.inputDim = 10
            config.trainSize = 50
            config.evalSize = 500
            config.hiddenDim = 16
            config.units = 32
            config.optimizer = .euler
            config.lr = 0.05
            config.steps = 4000
            config.logEvery = 40
            config.ntkEvery = 200
        }
        return config
    }

    /// `resolved()` for ResNets: Transformer-only keys must keep their defaults.
    func resolvedResNet(defaultThreads: Int) throws -> TrainConfig {
        let plain = TrainConfig()
        let transformerOnly: [(String, Bool)] = [
            ("heads", heads != plain.heads), ("ffn-units", ffnUnits != plain.ffnUnits), ("token-dim", tokenDim != nil),
            ("head-dim", headDim != nil), ("attention", attention != plain.attention), ("score", score != plain.score),
            ("pre-norm", preNorm), ("temperature", temperature != plain.temperature), ("engine", engine != plain.engine),
            ("patch", patch != plain.patch), ("class-token", classToken), ("examples", examples != plain.examples),
        ]
        if let (flag, _) = transformerOnly.first(where: { $0.1 }) {
            throw RunError("--\(flag) applies to --model transformer; --model \(model.rawValue) takes --units, --hidden-dim and --layers")
        }
        if model == .rffResnet && activation != plain.activation {
            throw RunError("--activation applies to --model resnet (two-layer blocks); random-feature blocks use --feature-map cos|relu")
        }
        if model == .resnet, let flag = [("feature-map", featureMap != plain.featureMap), ("feature-scale", featureScale != nil)].first(where: { $0.1 }) {
            throw RunError("--\(flag.0) applies to --model rff-resnet; --model resnet trains two-layer blocks (use --activation)")
        }
        var config = self
        if isImageTask {
            if ntkEvery != 0 { throw RunError("--ntk-every applies to --task teacher-regression (square loss); image tasks do not track the NTK") }
            config = try resolvedImageTask(defaultThreads: defaultThreads, checkModel: false)
        } else {
            guard task == Self.teacherRegressionTask else {
                throw RunError("--model \(model.rawValue) trains --task teacher-regression or an image task (\(Self.imageTasks.joined(separator: ", "))), not \(task)")
            }
            try checkNoImageKeys()
            guard epochs == 0 else { throw RunError("--epochs applies to image tasks; a teacher-regression run is given in --steps") }
            guard trainSize >= 1 else { throw RunError("--train-size must be ≥ 1 for --task teacher-regression (a fixed set of points)") }
            guard batchSize <= trainSize else {
                throw RunError("--batch-size \(batchSize) is larger than --train-size \(trainSize); use at most \(trainSize) (0 = full batch)")
            }
            if schedule == .warmup && warmupSteps == 0 { throw RunError("--schedule warmup needs --warmup-steps ≥ 1") }
            if ntkEvery > 0 && trainSize > Self.largestNTKTrainSize {
                throw RunError("--ntk-every computes the \(trainSize)×\(trainSize) NTK Gram matrix and its eigenvalues; use --train-size ≤ \(Self.largestNTKTrainSize) or --ntk-every 0")
            }
            config.threads = threads ?? defaultThreads
        }
        config.epochsGivenWithSteps = false
        return config
    }

    /// Transformer runs reject the ResNet keys (one line naming the flag).
    func checkNoResNetKeys() throws {
        let plain = TrainConfig()
        let resNetOnly: [(String, Bool)] = [
            ("units", units != plain.units), ("hidden-dim", hiddenDim != plain.hiddenDim), ("feature-map", featureMap != plain.featureMap),
            ("feature-scale", featureScale != nil), ("ntk-every", ntkEvery != plain.ntkEvery),
        ]
        if let (flag, _) = resNetOnly.first(where: { $0.1 }) {
            throw RunError("--\(flag) applies to --model resnet|rff-resnet, not to the Transformer; pass --model resnet or drop it")
        }
        if task == Self.teacherRegressionTask {
            throw RunError("--task teacher-regression trains a ResNet; pass --model resnet or --model rff-resnet")
        }
    }
}
