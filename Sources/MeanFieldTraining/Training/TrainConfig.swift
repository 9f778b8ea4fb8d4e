import Foundation
import MeanFieldModels

/// Everything that defines a `meanfield train` run, as one flat set of keys. Each key is also a
/// command-line flag (`heads` ↔ `--heads`) and a key of a `--config` file (TOML, JSON or YAML;
/// `ffn_units` may be written for `ffn-units`). The resolved config (``resolved()``) is saved as
/// `config.json` in the run directory and in every checkpoint; it is itself a valid `--config` file.
///
/// The defaults are a small, fast run (a few seconds even in a debug build): d = 3, N = 8, D = 4,
/// M = M′ = 4, L = 2, a fixed set of 16 prompts, full batch, the Euler gradient flow with η = 0.1
/// for 100 steps (mean-field time t = 10). It fits the training set (R falls from 2.15 to 1.1e-4, seed 0) — memorisation, not in-context
/// learning: the evaluation risk rises. Use larger --train-size (or 0) and more steps for the latter.
public struct TrainConfig: Codable, Sendable, Equatable {
    // Task (theory §1.1).
    /// `icl-regression`, or an image classification task (``imageTasks``) trained with a
    /// ``VisionTransformer`` by ``ImageClassificationTask``.
    public var task = "icl-regression"
    /// Input dimension d.
    public var inputDim = 3
    /// In-context examples per prompt, N.
    public var examples = 8
    /// Label noise standard deviation.
    public var noise = 0.0
    /// Prompts in the fixed training set; 0 = fresh prompts every step.
    public var trainSize = 16
    /// Prompts in the evaluation set.
    public var evalSize = 64

    // Image tasks (``VisionTransformer``, ``ImageClassificationTask``).
    /// Folder of the dataset's files (nil = the dataset's default location).
    public var data: String? = nil
    /// Images in a fixed class-balanced subset of the training set (0 = all).
    public var subset = 0
    /// Images in a fixed class-balanced subset of the test set (0 = all).
    public var testSubset = 0
    /// Patch side p.
    public var patch = 4
    /// Prepend a learned class token and read out from it (otherwise mean pooling).
    public var classToken = false
    /// Random crop after zero padding (2 px for 28×28, 4 px for 32×32) and horizontal flips.
    public var augment = false

    // Model (theory §1.2–1.3).
    /// The network: the mean-field Transformer, or a mean-field ResNet with two-layer or
    /// random-feature blocks (theory §4–5, ``MeanFieldResNet``; keys `units`, `hidden-dim`, `feature-*`).
    public var model = ModelKind.transformer
    /// Token dimension D ≥ d + 1 (nil = d + 1).
    public var tokenDim: Int? = nil
    public var heads = 4
    public var ffnUnits = 4
    public var layers = 2
    /// Head width d_h of factored heads (nil = D).
    public var headDim: Int? = nil
    public var attention = AttentionKind.merged
    public var score = ScoreMap.softmax
    public var activation = Activation.relu
    public var preNorm = false
    public var residualExponent = 1.0
    public var temperature = 1.0
    /// Std of the Gaussian initial particles (nil = 1/√D).
    public var initStd: Double? = nil
    /// Which engine computes risks and gradients: the hand-fused fast path (default) or the autodiff reference.
    public var engine = EngineKind.fused
    /// The scalar type of the run: float32 (`Float`) or float64 (`Double`).
    public var precision = Precision.float32
    /// Feature-learning strength γ₀: the model's output becomes the centred (f − f₀)/γ₀, f₀ the
    /// output at the initial parameters (theory §1.7, ``OutputCentring``); nil = the plain output f.
    public var gamma0: Double? = nil
    /// How a layer averages its heads: 1/M (mean-field, theory §1.2), 1/√M or 1 (mis-scaled models,
    /// to compare with; ``Parametrization/HeadScaling``).
    public var headScaling = Parametrization.HeadScaling.meanField

    // ResNets (theory §4–5).
    /// Particles per ResNet layer: M units of a two-layer block, or r random features.
    public var units = 32
    /// Dimension D of the ResNet's residual stream.
    public var hiddenDim = 16
    /// φ of random-feature blocks.
    public var featureMap = RandomFeatureMap.cos
    /// Std σ of the random features ω (nil = 1/√D).
    public var featureScale: Double? = nil
    /// Compute the NTK Gram matrix's λ_min and the PL constant 2λ_min/n every this many steps
    /// (teacher-regression; 0 = never).
    public var ntkEvery = 0

    // Optimization (theory §1.4).
    public var optimizer = OptimizerKind.euler
    /// Peak learning rate η (mean-field time per step).
    public var lr = 0.1
    public var schedule = ScheduleShape.constant
    public var warmupSteps = 0
    /// Cosine floor η_min.
    public var minLr = 0.0
    /// Step schedule: multiply η by `decay-factor` every `decay-every` steps.
    public var decayEvery = 1000
    public var decayFactor = 0.1
    /// Weight decay λ of Q = R + (λ/2)∫|θ|² dρ.
    public var weightDecay = 0.0
    /// Rate multiplier k of the ordinary parameters (embeddings, readout): they step with k·η while
    /// the particles keep η (mean-field time).
    public var ordinaryLrScale = 1.0
    /// SGD momentum μ.
    public var momentum = 0.9
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    /// Total steps (updates); when `epochs` > 0 it is epochs × steps per epoch.
    public var steps = 100
    /// Passes over the fixed training set (0 = the run is given in steps).
    public var epochs = 0
    /// Prompts per step; 0 = the whole training set (full batch).
    public var batchSize = 0
    public var seed: UInt64 = 0

    // Run.
    /// The largest accepted `threads` (a typo guard: the pool starts that many threads).
    public static let maximumThreads = 1024
    /// Worker threads (nil = all cores).
    public var threads: Int? = nil
    /// Write a checkpoint every this many steps (0 = unused; a run always checkpoints its last step).
    public var checkpointEvery = 0
    /// Write a checkpoint every this many epochs (0 = unused).
    public var checkpointEveryEpochs = 0
    /// Log metrics every this many steps (0 = unused; a run always logs its first and last step).
    public var logEvery = 10
    /// Log metrics every this many epochs (0 = unused).
    public var logEveryEpochs = 0
    /// Also write the metrics as TensorBoard events (`tensorboard/` in the run folder).
    public var tensorboard = true
    /// How the run is spread over the processes of an MPI job (``DistributedMode``).
    public var distributed = DistributedMode.none
    /// Fixed flags of a `meanfield sweep` grid that do not apply to this run (`--momentum` with
    /// `--optimizer euler`) and were dropped for it, as `key=value` pairs separated by commas
    /// (`momentum=0.5`); empty for a run started by hand. A record only: it changes nothing.
    public var droppedKeys = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, inputDim = "input-dim", examples, noise, trainSize = "train-size", evalSize = "eval-size"
        case data, subset, testSubset = "test-subset", patch, classToken = "class-token", augment
        case model, units, hiddenDim = "hidden-dim", featureMap = "feature-map", featureScale = "feature-scale", ntkEvery = "ntk-every"
        case tokenDim = "token-dim", heads, ffnUnits = "ffn-units", layers, headDim = "head-dim", attention, score, activation
        case preNorm = "pre-norm", residualExponent = "residual-exponent", temperature, initStd = "init-std", engine, precision, gamma0
        case headScaling = "head-scaling"
        case optimizer, lr, schedule, warmupSteps = "warmup-steps", minLr = "min-lr", decayEvery = "decay-every"
        case decayFactor = "decay-factor", weightDecay = "weight-decay", ordinaryLrScale = "ordinary-lr-scale", momentum, beta1, beta2, epsilon
        case steps, epochs, batchSize = "batch-size", seed, threads, checkpointEvery = "checkpoint-every", logEvery = "log-every"
        case checkpointEveryEpochs = "checkpoint-every-epochs", logEveryEpochs = "log-every-epochs", tensorboard
        case distributed
        case droppedKeys = "dropped-keys"
    }

    /// Every key a config file may use (and flag it corresponds to), in the order of ``TrainKeys``.
    public static var keys: [String] { TrainKeys.names }

    /// The coding keys (the test checks that they and the key table name the same keys).
    public static var codingKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// The Transformer this config describes.
    public var transformer: TransformerConfig {
        TransformerConfig(dimension: tokenDim ?? inputDim + 1, heads: heads, ffnUnits: ffnUnits, layers: layers,
                          attention: attention, headDimension: headDim, temperature: temperature,
                          residualExponent: residualExponent, scoreMap: score, activation: activation,
                          preNorm: preNorm, initStd: initStd, parametrization: parametrization)
    }

    /// Prompts per step after resolving 0 = full batch.
    public var resolvedBatchSize: Int { batchSize == 0 ? trainSize : batchSize }

    /// Steps per pass over the fixed training set (the last partial batch of an epoch is dropped,
    /// so every step sees the same number of prompts).
    public var stepsPerEpoch: Int { trainSize == 0 ? 1 : max(1, trainSize / resolvedBatchSize) }

    /// The optimizer settings.
    public var optimizerSettings: OptimizerSettings {
        OptimizerSettings(kind: optimizer, weightDecay: weightDecay, momentum: momentum, beta1: beta1, beta2: beta2, epsilon: epsilon,
                          ordinaryRateScale: ordinaryLrScale, parametrization: parametrization)
    }

    /// The learning-rate schedule over `steps` updates.
    public var learningRateSchedule: LearningRateSchedule {
        LearningRateSchedule(shape: schedule, baseRate: lr, warmupSteps: warmupSteps, minimumRate: minLr,
                             decayEvery: decayEvery, decayFactor: decayFactor, totalSteps: steps)
    }

    // MARK: Setting keys from text (flags and config files share this path)

    /// Sets `key` from its text form, through the key table (``TrainKeys``). `source` names where
    /// the value came from in errors: "--heads" for a flag, "run.toml: key 'heads'" for a file.
    /// Every bad value is one line that names the source and what is accepted.
    public mutating func set(_ key: String, _ text: String, source: String) throws {
        guard let entry = TrainKeys[key] else {
            throw RunError("\(source): unknown key; known keys: \(Self.keys.joined(separator: ", "))")
        }
        try entry.write(&self, text, source)
    }

    /// Applies `(key, text)` pairs from one source in order. Giving both `steps` and `epochs` in
    /// one source is an error; across sources the later one wins (a flag `--epochs` overrides a
    /// file's `steps`).
    public mutating func apply(_ values: [(key: String, text: String)], source: (String) -> String) throws {
        let canonical = values.map { $0.key.replacingOccurrences(of: "_", with: "-") }
        if canonical.contains("steps") && canonical.contains("epochs"),
           let epochsText = values.first(where: { $0.key == "epochs" })?.text, epochsText.trimmingCharacters(in: .whitespaces) != "0" {
            // A resolved config.json lists both; accept it when steps = epochs × steps per epoch (checked in resolved()).
            epochsGivenWithSteps = true
        }
        for (key, text) in values {
            try set(key, text, source: source(key))
            let name = key.replacingOccurrences(of: "_", with: "-")
            if name == "steps", !canonical.contains("epochs") { epochs = 0 }
        }
    }

    /// Set when one source gave both steps and epochs (checked for consistency in ``resolved()``).
    var epochsGivenWithSteps = false

    /// The flow-scale rule, the decay's placement and the clock (``Parametrization``; its head scaling
    /// is the key `head-scaling`): this build's (``Parametrization/standard``) for a new run, the
    /// checkpoint's for a run read from or resumed from one (``Parametrization/legacy`` for checkpoints
    /// written before it was recorded). Not a key and not in config.json: checkpoints and summary.json
    /// record the whole ``parametrization``.
    public var scalingRules = Parametrization.standard

    /// Every scaling factor of the run (theory §1.2–1.4, §1.6): ``scalingRules`` with the key
    /// `head-scaling`.
    public var parametrization: Parametrization {
        get {
            var value = scalingRules
            value.headScaling = headScaling
            return value
        }
        set {
            scalingRules = newValue
            headScaling = newValue.headScaling
        }
    }

    /// Fills every default that depends on other keys (D, d_h, σ₀, threads, steps from epochs) and
    /// checks the keys against each other. Errors are one line naming the flags involved.
    public func resolved(defaultThreads: Int) throws -> TrainConfig {
        try checkSettingsApply()
        if model != .transformer { return try resolvedResNet(defaultThreads: defaultThreads) }
        if isImageTask {
            var config = try resolvedImageTask(defaultThreads: defaultThreads)
            config.epochsGivenWithSteps = false
            return config
        }
        var config = self
        let dimension = tokenDim ?? inputDim + 1
        guard dimension >= inputDim + 1 else {
            throw RunError("--token-dim \(dimension) is smaller than --input-dim + 1 = \(inputDim + 1); the tokens hold (x, y)")
        }
        config.tokenDim = dimension
        config.headDim = headDim ?? dimension
        config.initStd = initStd ?? 1 / Double(dimension).squareRoot()
        config.threads = threads ?? defaultThreads
        if trainSize == 0 {
            guard batchSize >= 1 else { throw RunError("--batch-size must be ≥ 1 with --train-size 0 (fresh prompts each step); got \(batchSize)") }
            guard epochs == 0 else { throw RunError("--epochs needs a fixed training set (--train-size ≥ 1); with --train-size 0 give --steps") }
        } else {
            guard batchSize <= trainSize else {
                throw RunError("--batch-size \(batchSize) is larger than --train-size \(trainSize); use at most \(trainSize) (0 = full batch)")
            }
        }
        if epochs > 0 {
            let fromEpochs = try Self.stepsOf(epochs, "epochs", perEpoch: config.stepsPerEpoch)
            if epochsGivenWithSteps && steps != fromEpochs {
                throw RunError("--steps \(steps) and --epochs \(epochs) disagree (\(epochs) epochs are \(fromEpochs) steps); give only one")
            }
            config.steps = fromEpochs
        }
        if attention == .factored && headDim == nil { config.headDim = dimension }
        config.epochsGivenWithSteps = false
        return config
    }

    /// Settings that have no effect with the other keys are errors (a typo or a misunderstanding, not
    /// something to ignore silently): the key table's applicability (``checkKeysApply()``), then the
    /// checks of values against each other. Each names the flags involved.
    func checkSettingsApply() throws {
        try checkKeysApply()
        if model == .transformer, attention == .merged, let width = headDim, width != (tokenDim ?? inputDim + 1) {
            throw RunError("--head-dim \(width) applies to --attention factored (merged heads are D×D); pass --attention factored or drop --head-dim")
        }
        if schedule == .cosine && minLr >= lr {
            throw RunError("--min-lr \(minLr) must be below --lr \(lr) (the cosine decays from --lr to --min-lr)")
        }
        if schedule == .warmup && warmupSteps == 0 { throw RunError("--schedule warmup needs --warmup-steps ≥ 1") }
        if epochs == 0 && !isImageTask && warmupSteps > steps {
            throw RunError("--warmup-steps \(warmupSteps) exceeds --steps \(steps); the run would end before its warmup does")
        }
        // Epoch cadences in steps (image tasks: at most the dataset's images per epoch, far inside Int).
        if !isImageTask && hasEpochs {
            for (name, value) in [("log-every-epochs", logEveryEpochs), ("checkpoint-every-epochs", checkpointEveryEpochs)] where value > 0 {
                _ = try Self.stepsOf(value, name, perEpoch: stepsPerEpoch)
            }
        }
    }

    /// `count` epochs of `perEpoch` steps, or one line naming `--name` when that passes the step bound.
    static func stepsOf(_ count: Int, _ name: String, perEpoch: Int) throws -> Int {
        guard let steps = TrainBound.count.product(count, perEpoch) else {
            let bound = TrainBound.count
            throw RunError("--\(name) \(count) is \(count) × \(perEpoch) steps, more than \(bound.value) (\(bound.reason)); give fewer")
        }
        return steps
    }

    /// The resolved config as pretty, key-sorted JSON (what `config.json` holds).
    /// Keys are spelled in snake_case (`ffn_units`; the flag is `--ffn-units`), as in every run file
    /// (``RunFormat``).
    public func jsonData() throws -> Data {
        try RunFormat.encoder().encode(self)
    }

    /// Decodes a config.json written by ``jsonData()`` (through the same key checks as any file),
    /// resolved (a saved config is already complete, so this only re-checks it). Keys may be
    /// spelled in snake_case (run format 2) or kebab-case (format 1, and the flags). A config.json
    /// written before the epoch cadence keys is upgraded (``upgradingLegacy(_:keys:)``).
    ///
    /// `inconsistency` (for readers of finished runs, which must not refuse a folder because a
    /// later build checks more): keys whose values are consistent with each other are not
    /// required; the config comes back as the file gives it (resolved where it can be) and the
    /// reason it is not consistent is passed to `inconsistency`.
    public static func fromJSON(_ data: Data, name: String, inconsistency: ((String) -> Void)? = nil) throws -> TrainConfig {
        var config = TrainConfig()
        let pairs = try ConfigFile.parse(data, format: .json, name: name)
        try config.apply(pairs, source: { "\(name): key '\($0)'" })
        config = upgradingLegacy(config, keys: Set(pairs.map { $0.key.replacingOccurrences(of: "_", with: "-") }))
        do {
            return try config.resolved(defaultThreads: 1)
        } catch let error as RunError {
            // The keys are checked against each other in flag terms; say which file holds them.
            let problem = "\(name): inconsistent config (\(error.description))"
            guard let inconsistency else { throw RunError(problem) }
            inconsistency(problem)
            return config
        }
    }
}

extension TrainConfig {
    /// Decodes a config as written by ``jsonData()``, key by key through the key table (the same
    /// checks as a config file; keys missing from an older file keep their defaults, and an older
    /// image-task file is upgraded by ``upgradingLegacy(_:keys:)``). Not resolved: see ``fromJSON(_:name:)``.
    public init(from decoder: Decoder) throws {
        let object = try decoder.singleValueContainer().decode([String: JSONScalar].self)
        var config = TrainConfig()
        do {
            try config.apply(object.keys.sorted().map { ($0, object[$0]!.text) }, source: { "config: key '\($0)'" })
        } catch let error as RunError {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
        config.epochsGivenWithSteps = false
        self = Self.upgradingLegacy(config, keys: Set(object.keys.map { $0.replacingOccurrences(of: "_", with: "-") }))
    }
}
