import MeanFieldCore

/// The mean-field Transformer of theory §1.2–1.3 with a hand-written forward and backward pass:
/// the fast path the trainer uses. It computes the same risk and gradients as ``AutodiffEngine``
/// (checked in Tests/MeanFieldTests/FusedEngineTests.swift: relative error ≤ 1e-10 in Double).
///
/// - Tokens are kept token-major, `[B·n, D]`, so the projections of all M heads of a layer are one
///   GEMM, the feed-forward units two GEMMs, and each (sequence, head) pair adds three small
///   products with a fused softmax (FusedAttention.swift, FusedFeedForward.swift).
/// - Activations and gradients live in a workspace planned once per (config, batch size, token
///   count) and reused by every step (FusedWorkspace.swift).
/// - Work is split over `Threading.threadCount` threads; every reduction has a fixed order, so
///   results are bitwise the same on any thread count.
///
/// Copies of an engine share nothing mutable: a copy that runs re-plans its own workspace.
///
/// With a ``ParticleShare`` (particle-parallel training, docs/distributed.md) the engine computes
/// this rank's heads and units of every layer; each block's output is the rank-ordered sum of the
/// ranks' partial averages, and so is ∂R/∂(block input) in the backward pass. It takes a store of
/// the whole model or of the rank's share, and returns the gradients of the share. Every rank must
/// make the same calls in the same order (each block is a collective).
public struct FusedTransformerEngine<Scalar: TensorScalar>: TransformerEngine {
    public let config: TransformerConfig
    /// This rank's share of the particles, nil when the engine computes them all.
    public let particles: ParticleShare?
    /// Where the attention weights wait for the backward pass (kept, or recomputed there).
    public let attentionWeights: AttentionWeightStorage
    private var workspace: FusedWorkspace<Scalar>?

    public init(config: TransformerConfig, particles: ParticleShare? = nil, attentionWeights: AttentionWeightStorage = .automatic) {
        precondition(config.heads > 0 && config.layers > 0 && config.dimension > 0,
                     "FusedTransformerEngine: needs D, M and L ≥ 1, got \(config)")
        precondition(!config.readout.isClassification || config.classes > 0,
                     "FusedTransformerEngine: a classification readout needs classes ≥ 1")
        precondition(particles == nil || particles!.model == config, "FusedTransformerEngine: the particle share is of another model")
        self.config = config
        self.particles = particles
        self.attentionWeights = attentionWeights
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, gradients: [Tensor<Scalar>]) {
        let w = prepare(store, tokens: tokens)
        let (risk, _) = FusedPass.run(w, targets: targets, withGradients: true, particles: particles)
        return (risk, gradientTensors(w, names: store.names))
    }

    public mutating func riskAndGradients(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>,
                                          withInputGradient: Bool) -> (risk: Double, gradients: [Tensor<Scalar>], inputGradient: Tensor<Scalar>?) {
        let w = prepare(store, tokens: tokens)
        let (risk, _) = FusedPass.run(w, targets: targets, withGradients: true, particles: particles)
        guard withInputGradient else { return (risk, gradientTensors(w, names: store.names), nil) }
        // After the backward pass the stream gradient holds ∂R/∂H^{(0)}, token-major [B·n, D] → [B, D, n].
        let B = w.shape.batch, D = w.shape.dimension, n = w.shape.tokens
        let source = w.streamGradient.pointer
        let inputGradient = Tensor<Scalar>(shape: [B, D, n]) { out in
            for b in 0..<B {
                for p in 0..<D {
                    for i in 0..<n { out[(b * D + p) * n + i] = source[(b * n + i) * D + p] }
                }
            }
        }
        return (risk, gradientTensors(w, names: store.names), inputGradient)
    }

    public mutating func evaluate(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>, targets: Targets<Scalar>) -> (risk: Double, outputs: Tensor<Scalar>) {
        let w = prepare(store, tokens: tokens)
        return FusedPass.run(w, targets: targets, withGradients: false, particles: particles)
    }

    /// The workspace for this batch shape (planned on first use or when the shape changes), loaded
    /// with the parameters and the tokens.
    private mutating func prepare(_ store: ParameterStore<Scalar>, tokens: Tensor<Scalar>) -> FusedWorkspace<Scalar> {
        precondition(tokens.rank == 3 && tokens.shape[1] == config.dimension,
                     "FusedTransformerEngine: tokens must be [batch, \(config.dimension), tokens], got \(tokens.shape)")
        let shape = FusedShape(config: config, batch: tokens.shape[0], tokens: tokens.shape[2], share: particles, attentionWeights: attentionWeights)
        if workspace == nil || workspace!.shape != shape || !isKnownUniquelyReferenced(&workspace!) {
            workspace = FusedWorkspace(shape)
        }
        let w = workspace!
        FusedParameters.load(particles.map { $0.local(store) } ?? store, into: w)
        // [B, D, n] → token-major [B·n, D]: per sequence, [D, n] is the head-major layout of D "heads"
        // of width 1 (a kernel: this generic method copied element by element through the scalar's
        // value witness: about 1% of a ViT bench's perf samples).
        let B = shape.batch, D = shape.dimension, n = shape.tokens
        let stream = w.streams[0].pointer
        tokens.withUnsafeBufferPointer { source in
            guard let source = source.baseAddress else { return }   // no tokens
            for b in 0..<B {
                FusedKernels.headMajor(source + b * D * n, stream + b * n * D, tokens: n, heads: D, width: 1, toHeadMajor: false)
            }
        }
        return w
    }

    private func gradientTensors(_ w: FusedWorkspace<Scalar>, names: [String]) -> [Tensor<Scalar>] {
        let byName = FusedParameters.gradients(w)
        return names.map { name in
            guard let gradient = byName[name] else { fatalError("FusedTransformerEngine: no gradient for parameter '\(name)'") }
            return gradient
        }
    }
}

/// One forward (and backward) pass over a loaded workspace.
enum FusedPass {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: TensorScalar>(_ w: FusedWorkspace<T>, targets: Targets<T>, withGradients: Bool,
                                     particles: ParticleShare? = nil) -> (risk: Double, outputs: Tensor<T>) {
        let shape = w.shape, config = shape.config
        let blocksPerLayer = shape.units > 0 ? 2 : 1
        let R = shape.rows, D = shape.dimension
        for block in 0..<shape.blockCount {
            if config.preNorm {
                FusedKernels.layerNormForward(w.streams[block].pointer, w.normed[block].pointer,
                                              inverseStd: w.inverseStd[block].pointer, rows: R, width: D)
            }
            if block % blocksPerLayer == 0 {
                FusedAttention.forward(w, layer: block / blocksPerLayer, block: block)
            } else {
                FusedFeedForward.forward(w, layer: block / blocksPerLayer, block: block)
            }
            // Particle-parallel: the block wrote this rank's part; next = stream + Σ_ranks parts.
            if let particles {
                let next = w.streams[block + 1].pointer
                particles.sumOverRanks(next, count: R * D)
                FusedKernels.add(w.streams[block].pointer, next, into: next, count: R * D)
            }
        }
        let seed = withGradients ? w.streamGradient.pointer : nil
        let result: (risk: Double, outputs: Tensor<T>)
        let (base, centring) = targets.parts
        switch base {
        case let .regression(values, labelRow):
            result = FusedReadout.regression(w, values: values, labelRow: labelRow, centring: centring, gradient: seed)
            // A classification readout unused by a regression risk has zero gradient.
            w.readoutWeightGradient.pointer.update(repeating: 0, count: w.readoutWeightGradient.count)
            w.readoutBiasGradient.pointer.update(repeating: 0, count: w.readoutBiasGradient.count)
        case let .classification(labels):
            precondition(config.readout.isClassification, "FusedTransformerEngine: classification targets need a classification readout")
            result = FusedReadout.classification(w, labels: labels, centring: centring, gradient: seed)
        case .centred: preconditionFailure("unreachable: parts unwraps the centring")
        }
        guard withGradients else { return result }
        for block in stride(from: shape.blockCount - 1, through: 0, by: -1) {
            if block % blocksPerLayer == 0 {
                FusedAttention.backward(w, layer: block / blocksPerLayer, block: block)
            } else {
                FusedFeedForward.backward(w, layer: block / blocksPerLayer, block: block)
            }
            // Particle-parallel: ∂R/∂U through every rank's particles.
            particles?.sumOverRanks(w.normedGradient.pointer, count: R * D)
            // ∂R/∂stream_k = ∂R/∂stream_{k+1} (residual) + the block's contribution through U.
            let G = w.streamGradient.pointer, dU = w.normedGradient.pointer, into = w.inputGradient.pointer
            if config.preNorm {
                FusedKernels.layerNormBackward(output: w.normed[block].pointer, inverseStd: w.inverseStd[block].pointer,
                                               upstream: dU, residual: G, into: into, rows: R, width: D)
            } else {
                FusedKernels.add(G, dU, into: into, count: R * D)
            }
            swap(&w.streamGradient, &w.inputGradient)
        }
        return result
    }
}
