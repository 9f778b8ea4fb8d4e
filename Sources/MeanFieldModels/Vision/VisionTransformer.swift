import MeanFieldCore

/// The shape of a Vision Transformer in the mean-field parameterization: images of C×H×W cut into
/// p×p patches, embedded as D-dimensional tokens, then the mean-field Transformer of theory §1.2
/// (every ``TransformerConfig`` knob) and a classification readout (theory §1.3).
public struct VisionTransformerConfig: Codable, Sendable, Equatable {
    /// Image channels C, height H and width W.
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Patch side p (H and W must be multiples of it).
    public var patch: Int
    /// Prepend a learned class token and read the logits from it; otherwise mean-pool all tokens.
    public var classToken: Bool
    /// The Transformer; its readout is set to ``ReadoutKind/classToken`` or ``ReadoutKind/classification``.
    public var transformer: TransformerConfig

    public init(channels: Int, height: Int, width: Int, patch: Int, classToken: Bool = false, classes: Int, transformer: TransformerConfig) {
        self.channels = channels
        self.height = height
        self.width = width
        self.patch = patch
        self.classToken = classToken
        var transformer = transformer
        transformer.readout = classToken ? .classToken : .classification
        transformer.classes = classes
        self.transformer = transformer
    }

    /// Patches per image, n_p = (H/p)(W/p).
    public var patchCount: Int { (height / patch) * (width / patch) }
    /// Values per patch, C·p·p.
    public var patchSize: Int { channels * patch * patch }
    /// Tokens the Transformer sees: n_p, plus one with a class token.
    public var tokens: Int { patchCount + (classToken ? 1 : 0) }
    public var classes: Int { transformer.classes }
    public var dimension: Int { transformer.dimension }

    /// Checks that the patches tile the image; a one-line reason naming the flag otherwise.
    public func validate() throws {
        guard patch >= 1, height % patch == 0, width % patch == 0 else {
            throw RunError("--patch \(patch) does not tile \(height)×\(width) images; use a divisor of both (e.g. \(Self.divisors(height, width).map(String.init).joined(separator: ", ")))")
        }
        guard classes >= 2 else { throw RunError("a classifier needs at least 2 classes, got \(classes)") }
    }

    static func divisors(_ a: Int, _ b: Int) -> [Int] { (1...max(1, min(a, b))).filter { a % $0 == 0 && b % $0 == 0 } }
}

/// A Vision Transformer in the mean-field parameterization (theory §1.1–1.3, claim C3 of §1.5):
///
///   tokens_{:, i} = E · patch_i + e + P_{:, i}        (patch embedding E `[D, C·p·p]`, bias e, positions P `[D, n]`)
///   [optional class token: tokens_{:, 0} = c + P_{:, 0}, a learned D-vector]
///   H^{(L)} = mean-field Transformer(tokens)          (theory §1.2: 1/M, 1/M′ averages, 1/L^α steps)
///   logits = W · pool(H^{(L)}) + b                    (mean over tokens, or the class token)
///
/// All parameters live in one ``ParameterStore``: the embedding (`embedding.patch.weight`,
/// `embedding.patch.bias`, `embedding.position`, `embedding.classToken`) first, then the
/// Transformer's particles and readout under their usual names.
///
/// **Flow scales.** The embedding parameters are not particles: they are single linear maps whose
/// gradients are O(1), not O(1/(L·M)) like a head's, so — like the readout — they get flow scale 1
/// (theory §1.4 scales only averaged particles by L·M). Mean-field time t then still measures the
/// particles' motion, and the embedding moves at the ordinary learning rate.
///
/// **Initialization.** E ~ N(0, 1/(C·p·p)) entry-wise, so a token has O(1) entries for inputs of unit
/// variance; e = 0; P and the class token ~ N(0, 0.02²) (the ViT convention). Transformer particles
/// follow ρ₀ of theory §1.4 (``MeanFieldTransformer/initialParameters(seed:as:)``).
///
/// Forward and backward: the embedding by hand (``PatchEmbedding``, one GEMM each way), the
/// Transformer by an engine (``AnyTransformerEngine``: fused by default), the gradient flowing back
/// into the embedding through the engine's ∂R/∂tokens.
public struct VisionTransformer<Scalar: TensorScalar> {
    public let config: VisionTransformerConfig
    public var engine: AnyTransformerEngine<Scalar>
    /// The centred output (logits − logits at θ₀)/γ₀ of theory §1.7 (train key `gamma0`); nil: the logits.
    public var centring: OutputCentring<Scalar>?

    public static var patchWeightName: String { "embedding.patch.weight" }   // [D, C·p·p]
    public static var patchBiasName: String { "embedding.patch.bias" }       // [D]
    public static var positionName: String { "embedding.position" }         // [D, n]
    public static var classTokenName: String { "embedding.classToken" }     // [D]

    /// `particles`: this rank's share of the Transformer's heads and units (particle-parallel training).
    public init(config: VisionTransformerConfig, engine kind: EngineKind = .fused, particles: ParticleShare? = nil) {
        self.config = config
        engine = AnyTransformerEngine(config: config.transformer, kind: kind, particles: particles)
    }

    /// Fresh parameters: the embedding (Philox streams 2³² + k, independent of the Transformer's
    /// streams 1, 2, …), then the Transformer's. The readout starts at zero.
    public func initialParameters(seed: UInt64) -> ParameterStore<Scalar> {
        let D = config.dimension
        var store = ParameterStore<Scalar>()
        func draw(_ shape: [Int], _ std: Double, stream: UInt64) -> Tensor<Scalar> {
            var random = PhiloxRandom(seed: seed, stream: (1 << 32) + stream)
            return random.normal(shape, standardDeviation: Scalar(std))
        }
        let (ordinary, decay) = (Parametrization.ordinaryFlowScale, Parametrization.ordinaryDecayFactor)
        store.set(Self.patchWeightName, draw([D, config.patchSize], 1 / Double(config.patchSize).squareRoot(), stream: 0), flowScale: ordinary, decayFactor: decay)
        store.set(Self.patchBiasName, .zeros([D]), flowScale: ordinary, decayFactor: decay)
        store.set(Self.positionName, draw([D, config.tokens], 0.02, stream: 1), flowScale: ordinary, decayFactor: decay)
        if config.classToken { store.set(Self.classTokenName, draw([D], 0.02, stream: 2), flowScale: ordinary, decayFactor: decay) }
        let transformer: ParameterStore<Scalar> = MeanFieldTransformer(config: config.transformer).initialParameters(seed: seed)
        for name in transformer.names {
            store.set(name, transformer[name], flowScale: transformer.flowScales[name]!, decayFactor: transformer.decayFactors[name]!)
        }
        return store
    }

    /// The tokens `[B, D, n]` of `images` `[B, C, H, W]`.
    public func tokens(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>) -> Tensor<Scalar> {
        embed(store, patches: patches(images))
    }

    /// R (mean cross-entropy) of a batch and ∇R for every parameter of `store`, in `store.names` order.
    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let patches = patches(images)
        let tokens = embed(store, patches: patches)
        let transformer = transformerStore(store)
        let result = engine.riskAndGradients(transformer, tokens: tokens, targets: targets(patches, labels: labels), withInputGradient: true)
        let embedding = PatchEmbedding.backward(tokenGradient: result.inputGradient!, patches: patches, hasClassToken: config.classToken)
        var byName = Dictionary(uniqueKeysWithValues: zip(transformer.names, result.gradients))
        byName[Self.patchWeightName] = embedding.weight
        byName[Self.patchBiasName] = embedding.bias
        byName[Self.positionName] = embedding.position
        if let token = embedding.classToken { byName[Self.classTokenName] = token }
        return (result.risk, store.names.map { name in
            guard let gradient = byName[name] else { fatalError("VisionTransformer: no gradient for parameter '\(name)'") }
            return gradient
        })
    }

    /// R and the logits `[B, C]` of a batch, without gradients.
    public mutating func evaluate(_ store: ParameterStore<Scalar>, images: Tensor<Scalar>, labels: [Int]) -> (risk: Double, logits: Tensor<Scalar>) {
        let patches = patches(images)
        let tokens = embed(store, patches: patches)
        let result = engine.evaluate(transformerStore(store), tokens: tokens, targets: targets(patches, labels: labels))
        return (result.risk, result.outputs)
    }

    /// The labels, centred at θ₀'s logits of this batch when ``centring`` is set.
    mutating func targets(_ patches: Tensor<Scalar>, labels: [Int]) -> Targets<Scalar> {
        let plain = Targets<Scalar>.classification(labels: labels)
        guard let centring else { return plain }
        let initial = centring.initial
        // The readout starts at zero (initialParameters), and then so do the logits: no forward pass needed.
        let vanishing = [MeanFieldTransformer.readoutWeightName, MeanFieldTransformer.readoutBiasName].allSatisfy { name in
            initial.contains(name) && initial[name].scalars.allSatisfy { $0 == 0 }
        }
        let initialLogits = vanishing ? Tensor<Scalar>.zeros([labels.count, config.classes])
            : engine.evaluate(transformerStore(initial), tokens: embed(initial, patches: patches), targets: plain).outputs
        return plain.centredOutput(initialOutputs: initialLogits, gamma0: centring.gamma0)
    }

    func patches(_ images: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(images.rank == 4 && Array(images.shape.dropFirst()) == [config.channels, config.height, config.width],
                     "VisionTransformer: images must be [B, \(config.channels), \(config.height), \(config.width)], got \(images.shape)")
        return PatchEmbedding.patches(images, patch: config.patch)
    }

    func embed(_ store: ParameterStore<Scalar>, patches: Tensor<Scalar>) -> Tensor<Scalar> {
        PatchEmbedding.forward(patches: patches, weight: store[Self.patchWeightName], bias: store[Self.patchBiasName],
                               position: store[Self.positionName], classToken: config.classToken ? store[Self.classTokenName] : nil)
    }

    /// The Transformer's parameters (everything but the embedding), sharing storage with `store`.
    func transformerStore(_ store: ParameterStore<Scalar>) -> ParameterStore<Scalar> {
        var transformer = ParameterStore<Scalar>()
        for name in store.names where !name.hasPrefix("embedding.") {
            transformer.set(name, store[name], flowScale: store.flowScales[name]!, decayFactor: store.decayFactors[name]!)
        }
        return transformer
    }
}
