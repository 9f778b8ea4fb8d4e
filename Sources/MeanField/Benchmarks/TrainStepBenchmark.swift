import Foundation
import MeanFieldCore
import MeanFieldKernels

/// `meanfield bench train`: the time of one training step (risk, gradients and an Euler update,
/// theory §1.4) of the two Transformer sizes compared with PyTorch (``cases``: a regression model and
/// a ViT-sized one, each timed on 1 and 2 threads, with the losses of 10 steps checked to agree to
/// 1e-6 relative in float64), and the export that lets benchmarks/pytorch_transformer.py build the
/// identical model from the same weights.
public enum TrainStepBenchmark {
    /// A benchmarked model and batch.
    public struct Case: Sendable {
        public var name: String
        public var config: TransformerConfig
        public var batch: Int
        public var tokens: Int
        /// Euler time step η of the 10-step agreement check (and of the timed updates).
        public var learningRate: Double
        public var weightDecay: Double = 1e-4
    }

    /// regression: in-context regression, d = 5, N = 20 (n = 21 tokens), D = 6, merged heads M = 16,
    /// M′ = 16 ReLU units, L = 8, batch 256. vit: 65 tokens, D = 64, factored heads M = 4, d_h = 16,
    /// M′ = 256 ReLU units, L = 4, pre-norm, 10-class cross-entropy on mean-pooled tokens, batch 128.
    public static let cases: [Case] = [
        Case(name: "regression", config: TransformerConfig(dimension: 6, heads: 16, ffnUnits: 16, layers: 8),
             batch: 256, tokens: 21, learningRate: 0.02),
        Case(name: "vit", config: TransformerConfig(dimension: 64, heads: 4, ffnUnits: 256, layers: 4, attention: .factored,
                                                    headDimension: 16, preNorm: true, readout: .classification, classes: 10),
             batch: 128, tokens: 65, learningRate: 0.01),
    ]

    /// FLOPs of one forward pass of `benchCase`'s batch, counted from the GEMM shapes of the fused
    /// engine (elementwise work — score maps, activations, norms — is left out). Per example of n
    /// tokens and layer: merged heads M·(4nD² + 4n²D) (the query-key and value-output products of
    /// U, then the n×n scores and the value product); factored heads with width d_h
    /// M·(8nDd_h + 4n²d_h) (Q, K, V and output projections, scores, value product); M′ feed-forward
    /// units 4nDM′. One training step (forward + backward) is 3× this: the backward computes two
    /// products (input and weight gradients) for each forward product.
    public static func forwardFLOPs(_ benchCase: Case) -> Double {
        let config = benchCase.config
        let n = Double(benchCase.tokens), D = Double(config.dimension), M = Double(config.heads)
        let attention: Double
        switch config.attention {
        case .merged: attention = M * (4 * n * D * D + 4 * n * n * D)
        case .factored:
            let width = Double(config.headDimension)
            attention = M * (8 * n * D * width + 4 * n * n * width)
        }
        let feedForward = 4 * n * D * Double(config.ffnUnits)
        return Double(benchCase.batch) * Double(config.layers) * (attention + feedForward)
    }

    /// FLOPs of one training step (risk, gradients, update): 3 × ``forwardFLOPs(_:)``.
    public static func stepFLOPs(_ benchCase: Case) -> Double { 3 * forwardFLOPs(benchCase) }

    /// Deterministic inputs: regression prompts from the task (seed 0), or N(0, 1) tokens and labels b mod C.
    public static func batch<Scalar: TensorScalar>(_ benchCase: Case, as _: Scalar.Type) -> (tokens: Tensor<Scalar>, targets: Targets<Scalar>) {
        let config = benchCase.config
        var random = PhiloxRandom(seed: 0, stream: 1_000_000)
        if config.readout == .classification {
            let tokens: Tensor<Scalar> = random.normal([benchCase.batch, config.dimension, benchCase.tokens])
            return (tokens, .classification(labels: (0..<benchCase.batch).map { ($0 * 7 + 3) % config.classes }))
        }
        let task = InContextRegression(inputDimension: config.dimension - 1, examples: benchCase.tokens - 1)
        let (tokens, values): (Tensor<Scalar>, Tensor<Scalar>) = task.sample(benchCase.batch, random: &random)
        return (tokens, .regression(values: values, labelRow: task.labelRow))
    }

    /// Milliseconds per step (risk + gradients + Euler update) in `Scalar` (Float or Double) on
    /// `threads` threads, one value per repeat, sorted, after `warmup` untimed steps; with
    /// `profileGemms`, also the GEMMs of the timed steps by shape (``GemmProfile``; empty otherwise).
    public static func time<Scalar: TensorScalar>(_ benchCase: Case, kind: EngineKind, threads: Int, warmup: Int, repeats: Int,
                                                  attentionWeights: AttentionWeightStorage = .automatic, profileGemms: Bool = false,
                                                  as _: Scalar.Type = Float.self) -> (milliseconds: [Double], gemms: [GemmProfile.Entry]) {
        let original = Threading.threadCount
        defer { Threading.threadCount = original }
        Threading.threadCount = min(threads, Threading.processorCount)
        var engine: AnyTransformerEngine<Scalar> = makeEngine(config: benchCase.config, kind: kind, attentionWeights: attentionWeights)
        var store: ParameterStore<Scalar> = MeanFieldTransformer(config: benchCase.config).initialParameters(seed: 0)
        let (tokens, targets) = batch(benchCase, as: Scalar.self)
        let flow = GradientFlow(learningRate: benchCase.learningRate, weightDecay: benchCase.weightDecay)
        var samples: [Double] = []
        for iteration in 0..<(warmup + repeats) {
            if profileGemms && iteration == warmup { GemmProfile.start() }
            let start = DispatchTime.now().uptimeNanoseconds
            let (_, gradients) = engine.riskAndGradients(store, tokens: tokens, targets: targets)
            flow.step(&store, gradients: gradients)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            if iteration >= warmup { samples.append(elapsed) }
        }
        return (samples.sorted(), profileGemms ? GemmProfile.stop() : [])
    }

    /// Writes `<directory>/<name>.safetensors` (F64 initial parameters under their store names,
    /// `tokens` `[B, D, n]`, `targets` or `labels`; metadata: the config as JSON, η, λ, label row)
    /// and returns the risks of 10 Euler steps from those weights in Double (R before each step and
    /// after the last: 11 values), computed by `kind`.
    public static func export(_ benchCase: Case, kind: EngineKind, to directory: String) throws -> [Double] {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw RunError("--export \(directory): cannot create the folder (\(error.localizedDescription)); pass a writable folder")
        }
        var store: ParameterStore<Double> = MeanFieldTransformer(config: benchCase.config).initialParameters(seed: 0)
        let (tokens, targets) = batch(benchCase, as: Double.self)
        let configJSON = String(decoding: try JSONEncoder().encode(benchCase.config), as: UTF8.self)
        var file = SafeTensorsFile(metadata: ["config": configJSON, "learning_rate": "\(benchCase.learningRate)",
                                              "weight_decay": "\(benchCase.weightDecay)"])
        for name in store.names { file.add(name, store[name]) }
        file.add("tokens", tokens)
        switch targets {
        case let .regression(values, labelRow):
            file.add("targets", values)
            file.metadata["label_row"] = "\(labelRow)"
        case let .classification(labels):
            file.add("labels", Tensor<Double>(shape: [labels.count], scalars: labels.map(Double.init)))
        case .centred: preconditionFailure("TrainStepBenchmark: benchmark cases are not centred")
        }
        try file.write(to: (directory as NSString).appendingPathComponent("\(benchCase.name).safetensors"))

        var engine: AnyTransformerEngine<Double> = makeEngine(config: benchCase.config, kind: kind)
        let flow = GradientFlow(learningRate: benchCase.learningRate, weightDecay: benchCase.weightDecay)
        var risks: [Double] = []
        for _ in 0..<10 {
            let (risk, gradients) = engine.riskAndGradients(store, tokens: tokens, targets: targets)
            risks.append(risk)
            flow.step(&store, gradients: gradients)
        }
        risks.append(engine.evaluate(store, tokens: tokens, targets: targets).risk)
        return risks
    }
}
