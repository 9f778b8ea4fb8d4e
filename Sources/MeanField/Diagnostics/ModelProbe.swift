import MeanFieldCore

/// Evaluates a run's model on its own evaluation set (``EvaluationSample``) in `Double`, without
/// gradients: the outputs f(x) — the prediction of a regression run, the C logits of an image run —
/// and the residual stream after every layer. Every model and task: the mean-field Transformer on
/// in-context regression, the ViT and the ResNets on images, the ResNets on teacher regression.
/// A run trained with `gamma0` is probed through its centred output (f − f₀)/γ₀ (theory §1.7).
public struct ModelProbe {
    /// The run's config.
    public let config: TrainConfig
    /// The inputs (and targets or labels) evaluated.
    public let sample: EvaluationSample
    /// Outputs per sample: 1 (regression) or the classes C.
    public let outputsPerSample: Int
    /// f₀ = the plain outputs at θ₀ (with `gamma0`), flat `[n·C]`.
    private let initialOutputs: [Double]?
    /// Samples per forward pass (bounds the memory of a large evaluation set).
    static let chunk = 256

    /// Evaluation tokens (icl-regression; the sample's inputs for the other tasks) and targets.
    public var tokens: Tensor<Double> { sample.inputs }
    public var targets: Tensor<Double> { sample.targets }

    /// The probe of a run: its own evaluation sample (of `evalSize` samples, ``EvaluationSample``),
    /// θ₀ from the run (``RunRecord/state(atStep:)``) when it trained the centred output.
    public init(run: RunRecord, evalSize: Int = 0) throws {
        let sample = try EvaluationSample(config: run.config, evalSize: evalSize)
        try self.init(config: run.config, sample: sample, initial: run.config.gamma0 == nil ? nil : try run.state(atStep: 0).store)
    }

    /// The probe of a config on its run's evaluation set (drawn in the run's precision, as it trained).
    public init(config: TrainConfig) throws {
        var initial: ParameterStore<Double>?
        if config.gamma0 != nil {
            switch config.precision {
            case .float32: initial = config.initialParameters(as: Float.self).converted(to: Double.self)
            case .float64: initial = config.initialParameters(as: Double.self)
            }
        }
        try self.init(config: config, sample: EvaluationSample(config: config), initial: initial)
    }

    /// The probe of `config` on `sample` (shared by the runs of a family); `initial`: θ₀ of a centred run.
    public init(config: TrainConfig, sample: EvaluationSample, initial: ParameterStore<Double>?) throws {
        self.config = config
        self.sample = sample
        outputsPerSample = config.isImageTask ? config.imageShape.classes : 1
        if let initial, config.gamma0 != nil {
            initialOutputs = Self.plainOutputs(config: config, sample: sample, store: initial)
        } else {
            initialOutputs = nil
        }
    }

    /// The model's outputs on every sample, flat `[n·C]` (sample-major): the prediction ŷ
    /// (theory §1.3) or the logits; centred, (f − f₀)/γ₀, for a run with `gamma0`.
    public func predictions(_ store: ParameterStore<Double>) -> [Double] {
        let plain = plainOutputs(store)
        guard let gamma0 = config.gamma0, let initialOutputs else { return plain }
        return zip(plain, initialOutputs).map { ($0 - $1) / gamma0 }
    }

    /// The outputs f_θ of the network itself (not centred).
    func plainOutputs(_ store: ParameterStore<Double>) -> [Double] { Self.plainOutputs(config: config, sample: sample, store: store) }

    static func plainOutputs(config: TrainConfig, sample: EvaluationSample, store: ParameterStore<Double>) -> [Double] {
        var outputs: [Double] = []
        var transformer: AnyTransformerEngine<Double>?
        var vision: VisionTransformer<Double>?
        var resNet: MeanFieldResNet?
        if let visionConfig = config.visionModel {
            vision = VisionTransformer<Double>(config: visionConfig, engine: .fused)
        } else if let resNetConfig = config.resNet {
            resNet = MeanFieldResNet(config: resNetConfig, seed: config.seed)
        } else {
            transformer = AnyTransformerEngine<Double>(config: config.transformer, kind: .fused)
        }
        for start in stride(from: 0, to: sample.count, by: chunk) {
            let part = sample.slice(start..<min(sample.count, start + chunk))
            let values: Tensor<Double>
            if vision != nil {
                values = vision!.evaluate(store, images: part.inputs, labels: part.labels).logits
            } else if let resNet {
                let targets: ResNetTargets<Double> = part.targets.map { .regression(values: $0) } ?? .classification(labels: part.labels)
                values = resNet.evaluate(store, inputs: config.isImageTask ? Self.flattened(part.inputs) : part.inputs, targets: targets).outputs
            } else {
                values = transformer!.evaluate(store, tokens: part.inputs, targets: .regression(values: part.targets!, labelRow: config.inputDim)).outputs
            }
            outputs += values.scalars
        }
        return outputs
    }

    /// Residual stream on the evaluation set, as the model's own forward pass computes it:
    /// H^{(0)} … H^{(L)} `[n, D, tokens]` (theory §1.2; for the ViT H^{(0)} are the embedded patches)
    /// or X_0 … X_L `[n, D]` (ResNets, theory §4).
    public func states(_ store: ParameterStore<Double>) -> [Tensor<Double>] {
        var parameters: [String: Variable<Double>] = [:]
        for name in store.names { parameters[name] = Variable(store[name], requiresGradient: false) }
        if let resNetConfig = config.resNet {
            let inputs = config.isImageTask ? Self.flattened(sample.inputs) : sample.inputs
            return MeanFieldResNet(config: resNetConfig, seed: config.seed)
                .forwardStates(Variable(inputs, requiresGradient: false), parameters: parameters).map(\.value)
        }
        var tokens = sample.inputs
        if let vision = config.visionModel {
            tokens = VisionTransformer<Double>(config: vision, engine: .autodiff).tokens(store, images: sample.inputs)
        }
        let model = MeanFieldTransformer(config: config.visionModel?.transformer ?? config.transformer)
        return model.forwardStates(Variable(tokens, requiresGradient: false), parameters: parameters).map(\.value)
    }

    /// |f(x) − g(x)|² for every sample (summed over the C outputs of a sample).
    public func squaredDistances(_ f: [Double], _ g: [Double]) -> [Double] {
        precondition(f.count == g.count && f.count == sample.count * outputsPerSample,
                     "ModelProbe.squaredDistances: \(f.count) vs \(g.count) outputs for \(sample.count) samples × \(outputsPerSample)")
        let C = outputsPerSample
        return (0..<sample.count).map { i in
            var total = 0.0
            for c in 0..<C { total += (f[i * C + c] - g[i * C + c]) * (f[i * C + c] - g[i * C + c]) }
            return total
        }
    }

    /// E_x |f(x) − g(x)|² over the sample and its standard error.
    public func distance(_ f: [Double], _ g: [Double]) -> (mean: Double, standardError: Double) {
        meanAndStandardError(squaredDistances(f, g))
    }

    /// Image runs: whether each sample's largest logit is its label.
    public func correct(_ logits: [Double]) -> [Bool] {
        let C = outputsPerSample
        return sample.labels.enumerated().map { i, label in
            var best = 0
            for c in 1..<C where logits[i * C + c] > logits[i * C + best] { best = c }
            return best == label
        }
    }

    /// Squared function-space distance E_x |F(x) − G(x)|² between scalar outputs (one per sample).
    public static func squaredDistance(_ f: [Double], _ g: [Double]) -> Double {
        precondition(f.count == g.count && !f.isEmpty, "ModelProbe.squaredDistance: \(f.count) vs \(g.count) predictions")
        return zip(f, g).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(f.count)
    }

    /// Root mean square of a tensor's entries.
    public static func rms(_ tensor: Tensor<Double>) -> Double {
        (tensor.scalars.reduce(0) { $0 + $1 * $1 } / Double(max(1, tensor.count))).squareRoot()
    }

    static func flattened(_ images: Tensor<Double>) -> Tensor<Double> {
        images.reshaped([images.shape[0], images.count / max(1, images.shape[0])])
    }
}
