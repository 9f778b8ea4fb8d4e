// The memory plan of the fused engine: every activation, gradient and packed-parameter buffer for
// one (config, batch size, token count), allocated once and reused by every step.
import MeanFieldCore
import MeanFieldKernels

/// Sizes that fix a workspace: the model and the batch shape.
package struct FusedShape: Equatable {
    /// The model this workspace computes: the whole model, or one rank's share of its particles
    /// (``ParticleShare/localModel``) in particle-parallel training.
    let config: TransformerConfig
    /// Batch size B.
    let batch: Int
    /// Tokens per sequence n.
    let tokens: Int
    /// What the sum of a layer's heads and of its units is divided by: the whole model's
    /// (``TransformerConfig/headDivisor``, ``TransformerConfig/unitDivisor``), also on a rank's share.
    let headDivisor: Double
    let unitDivisor: Double
    /// Whether a block writes only its particles' part of the update (particle-parallel: the ranks'
    /// parts are summed and the stream added after the block) instead of stream + update.
    let partialBlocks: Bool
    /// Whether the backward pass recomputes the attention weights (the same bits) instead of reading
    /// back the ones the forward pass kept per layer (``AttentionWeightStorage``).
    let recomputesAttentionWeights: Bool

    init(config: TransformerConfig, batch: Int, tokens: Int, share: ParticleShare? = nil, attentionWeights: AttentionWeightStorage = .automatic) {
        (self.config, self.batch, self.tokens) = (share?.localModel ?? config, batch, tokens)
        (headDivisor, unitDivisor, partialBlocks) = (config.headDivisor, config.unitDivisor, share != nil)
        switch attentionWeights {
        case .kept: recomputesAttentionWeights = false
        case .recomputed: recomputesAttentionWeights = true
        case .automatic: recomputesAttentionWeights = Self.recomputesAutomatically(self.config, batch: batch, tokens: tokens)
        }
    }

    /// ``AttentionWeightStorage/automatic`` keeps the attention weights up to this many scalars
    /// (256 MiB in Float): recomputing them costs time (benchmarks/RESULTS.md, "Attention weights
    /// kept or recomputed"), keeping them grows as L·B·M·n².
    package static let keptAttentionLimit = Double(1 << 26)

    /// Whether ``AttentionWeightStorage/automatic`` recomputes: when keeping the weights would take
    /// L·B·M·n² > ``keptAttentionLimit`` scalars (counted in Double: no overflow).
    static func recomputesAutomatically(_ config: TransformerConfig, batch: Int, tokens: Int) -> Bool {
        Double(config.layers) * Double(batch) * Double(config.heads) * Double(tokens) * Double(tokens) > keptAttentionLimit
    }

    /// Scalars of one sequence's attention weights as one slot holds them (and their gradient): all
    /// heads merged, M·n²; one head factored, n².
    var sequenceWeightScalars: Int { (config.attention == .factored ? 1 : heads) * tokens * tokens }

    var dimension: Int { config.dimension }
    var heads: Int { config.heads }
    var units: Int { config.ffnUnits }
    /// R = B·n: rows of the token-major stream.
    var rows: Int { batch * tokens }
    /// Width of one head's query/key vectors: D (merged) or d_h (factored).
    var headWidth: Int { config.attention == .merged ? config.dimension : config.headDimension }
    /// Columns of the projection matrix P = U·Wcatᵀ of one layer: 2·M·D (merged: W_KQ·u | W_OV·u) or
    /// 3·M·d_h (factored: Q·u | K·u | V·u).
    var projectionWidth: Int {
        config.attention == .merged ? 2 * heads * dimension : 3 * heads * config.headDimension
    }
    /// Columns of the concatenated head outputs Z (factored only): M·d_h.
    var headOutputWidth: Int { heads * config.headDimension }
    /// Scalars of one group's partial factored-attention weight gradients: Ocat `[D, M·d_h]` and Wcat
    /// `[projectionWidth, D]`.
    var attentionPartialScalars: Int { dimension * headOutputWidth + projectionWidth * dimension }
    /// Scalars of one group's partial feed-forward weight gradients: a and b `[M′, D]`, c `[M′]`.
    var feedForwardPartialScalars: Int { units * (2 * dimension + 1) }
    /// Whether the feed-forward keeps its pre-activations beside the activations: not for ReLU, whose
    /// backward mask reads the activations (σ(x) > 0 exactly when x > 0, NaN included: both give 0),
    /// so the first GEMM writes into the activations and bias + ReLU run in place.
    static func keepsPreActivations(_ config: TransformerConfig) -> Bool { config.ffnUnits > 0 && config.activation != .relu }
    var keepsPreActivations: Bool { Self.keepsPreActivations(config) }
    /// Half-steps ("blocks") in order: attention of layer ℓ, then its feed-forward if M′ > 0.
    var blockCount: Int { config.layers * (units > 0 ? 2 : 1) }
}

/// One contiguous, owned buffer of scalars.
final class ScalarBuffer<T: TensorScalar> {
    let pointer: UnsafeMutablePointer<T>
    let count: Int
    private let allocation: LargeBuffers.Allocation

    /// `count` zeros, written as bytes (`initialize(repeating:)` in this generic class ran element by
    /// element through the scalar type's value witness, 2.6% of a ViT bench's samples for the first
    /// step's workspace; all-zero bits are +0 in Float and Double), on huge pages from 2 MiB on
    /// (``LargeBuffers``: the ViT step 4–8% faster).
    init(_ count: Int) {
        self.count = count
        allocation = LargeBuffers.allocateZeroed(bytes: max(count, 1) * MemoryLayout<T>.stride)
        pointer = allocation.pointer.bindMemory(to: T.self, capacity: max(count, 1))
    }

    deinit { LargeBuffers.free(allocation) }
}

/// All buffers of one fused forward/backward pass. Shapes use R = B·n rows of token-major tokens.
final class FusedWorkspace<T: TensorScalar> {
    let shape: FusedShape

    // Forward state (kept for the backward pass).
    /// streams[k]: the residual stream entering block k (`streams[blockCount]` = H^{(L)}), `[R, D]`.
    let streams: [ScalarBuffer<T>]
    /// normed[k], inverseStd[k]: layer-normalised block input and 1/σ per row (pre-norm only).
    let normed: [ScalarBuffer<T>]
    let inverseStd: [ScalarBuffer<T>]
    /// Per layer: projections P `[R, projectionWidth]` (merged: Y = U·W_KQᵀ `[R, M·D]`, then V = U·W_OVᵀ
    /// `[R, M·D]`; factored: [Qv | Kv | Vv] per row), head outputs Z `[R, M·d_h]` (factored only).
    let projections: [ScalarBuffer<T>]
    /// Attention weights, one row per query (merged `[n, M, n]` per sequence, rows (query, head);
    /// factored `[n, n]` per (sequence, head)): per layer `[B, …]` for all heads, kept from the forward
    /// pass for the backward; or, when ``FusedShape/recomputesAttentionWeights``, one buffer shared by
    /// all layers with one slot per sequence (merged: all heads; factored: the current head), which
    /// the backward pass refills (``attentionWeights(layer:sequence:head:)``).
    let weights: [ScalarBuffer<T>]
    let headOutputs: [ScalarBuffer<T>]
    /// Per layer (merged only): the values W_OV,j·u head-major, `[B, M, n, D]`.
    let headMajorValues: [ScalarBuffer<T>]
    /// Per layer with FF: pre-activations (bias included; only when ``FusedShape/keepsPreActivations``,
    /// read through ``preActivations(layer:)``) and activations `[R, M′]`.
    let keptPreActivations: [ScalarBuffer<T>]
    let activations: [ScalarBuffer<T>]

    // Backward scratch, shared by all layers.
    /// [R, D] ∂R/∂(stream after the current block) and ∂R/∂(stream before it); swapped after each block.
    var streamGradient: ScalarBuffer<T>
    var inputGradient: ScalarBuffer<T>
    let normedGradient: ScalarBuffer<T>       // [R, D] ∂R/∂(block input U)
    /// Merged: [R, projectionWidth] ∂R/∂Y|V, [B, M, n, n] ∂R/∂A, [B, M, n, D] ∂R/∂(head-major values).
    /// Factored (tile by tile, ``attentionTiles``), per group of tiles: ∂R/∂P of the tile at hand
    /// `[rowsPerTile, projectionWidth]`, ∂R/∂A of the (sequence, head) at hand `[n, n]`, ∂R/∂Z of the tile
    /// `[rowsPerTile, M·d_h]`; and (groups after the first) the group's partial Ocat and Wcat gradients.
    let projectionGradient: ScalarBuffer<T>
    let weightGradient: ScalarBuffer<T>
    let headMajorGradient: ScalarBuffer<T>
    let headOutputGradient: ScalarBuffer<T>
    let attentionPartialsBuffer: ScalarBuffer<T>
    /// The factored attention's tiles (``RowTiles/attention(batch:tokens:width:)``).
    let attentionTiles: RowTiles
    /// The feed-forward's tiles (``RowTiles/feedForward(batch:tokens:units:)``) and, per group of tiles, the unit gradients of
    /// the tile at hand `[rowsPerTile, M′]`, its bias-gradient sums `[M′]`, and (groups after the
    /// first) the group's partial weight gradients: a `[M′, D]`, b `[M′, D]`, c `[M′]`.
    let feedForwardTiles: RowTiles
    let unitGradientTiles: ScalarBuffer<T>
    let unitGradientSumsBuffer: ScalarBuffer<T>
    let feedForwardPartialsBuffer: ScalarBuffer<T>

    // Parameters packed per step, and their gradients (same layouts).
    /// Per layer: Wcat `[projectionWidth, D]` = [W_KQ; W_OV] (rows j·D + p) or [Q; K; V] (rows j·d_h + h).
    let projectionWeights: [ScalarBuffer<T>]
    /// Per layer (factored): Ocat `[D, M·d_h]`, Ocat[p, j·d_h + h] = O_j[p, h].
    let outputWeights: [ScalarBuffer<T>]
    /// Per layer with FF: b `[M′, D]`, c `[M′]`, a `[M′, D]`.
    let ffnIn: [ScalarBuffer<T>], ffnBias: [ScalarBuffer<T>], ffnOut: [ScalarBuffer<T>]
    let projectionWeightGradients: [ScalarBuffer<T>], outputWeightGradients: [ScalarBuffer<T>]
    let ffnInGradients: [ScalarBuffer<T>], ffnBiasGradients: [ScalarBuffer<T>], ffnOutGradients: [ScalarBuffer<T>]

    // Classification readout: W `[C, D]`, b `[C]`, pooled tokens `[B, D]`, logits `[B, C]`, and grads.
    let readoutWeight: ScalarBuffer<T>, readoutBias: ScalarBuffer<T>
    let pooled: ScalarBuffer<T>, logits: ScalarBuffer<T>
    let readoutWeightGradient: ScalarBuffer<T>, readoutBiasGradient: ScalarBuffer<T>

    init(_ shape: FusedShape) {
        self.shape = shape
        let config = shape.config
        let R = shape.rows, D = shape.dimension, M = shape.heads, units = shape.units, n = shape.tokens
        let layers = config.layers, blocks = shape.blockCount
        let factored = config.attention == .factored, pre = config.preNorm
        func buffers(_ count: Int, _ size: Int) -> [ScalarBuffer<T>] { (0..<count).map { _ in ScalarBuffer(size) } }

        streams = buffers(blocks + 1, R * D)
        normed = buffers(pre ? blocks : 0, R * D)
        inverseStd = buffers(pre ? blocks : 0, R)
        projections = buffers(layers, R * shape.projectionWidth)
        weights = shape.recomputesAttentionWeights
            ? buffers(1, shape.batch * shape.sequenceWeightScalars) : buffers(layers, shape.batch * M * n * n)
        headOutputs = buffers(factored ? layers : 0, R * shape.headOutputWidth)
        headMajorValues = buffers(factored ? 0 : layers, R * M * D)
        keptPreActivations = buffers(shape.keepsPreActivations ? layers : 0, R * units)
        activations = buffers(units > 0 ? layers : 0, R * units)

        streamGradient = ScalarBuffer(R * D)
        inputGradient = ScalarBuffer(R * D)
        normedGradient = ScalarBuffer(R * D)
        attentionTiles = RowTiles.attention(batch: shape.batch, tokens: n, width: shape.projectionWidth)
        let attentionGroups = attentionTiles.groups, tileRows = attentionTiles.rowsPerTile
        projectionGradient = ScalarBuffer((factored ? attentionGroups * tileRows : R) * shape.projectionWidth)
        weightGradient = ScalarBuffer(factored ? attentionGroups * n * n : shape.batch * shape.sequenceWeightScalars)
        headMajorGradient = ScalarBuffer(factored ? 0 : R * M * D)
        headOutputGradient = ScalarBuffer(factored ? attentionGroups * tileRows * shape.headOutputWidth : 0)
        attentionPartialsBuffer = ScalarBuffer(factored ? (attentionGroups - 1) * shape.attentionPartialScalars : 0)
        feedForwardTiles = RowTiles.feedForward(batch: shape.batch, tokens: n, units: units)
        let groups = units > 0 ? feedForwardTiles.groups : 0
        unitGradientTiles = ScalarBuffer(groups * feedForwardTiles.rowsPerTile * units)
        unitGradientSumsBuffer = ScalarBuffer(groups * units)
        feedForwardPartialsBuffer = ScalarBuffer(max(0, groups - 1) * shape.feedForwardPartialScalars)

        projectionWeights = buffers(layers, shape.projectionWidth * D)
        outputWeights = buffers(factored ? layers : 0, D * shape.headOutputWidth)
        ffnIn = buffers(units > 0 ? layers : 0, units * D)
        ffnBias = buffers(units > 0 ? layers : 0, units)
        ffnOut = buffers(units > 0 ? layers : 0, units * D)
        projectionWeightGradients = buffers(layers, shape.projectionWidth * D)
        outputWeightGradients = buffers(factored ? layers : 0, D * shape.headOutputWidth)
        ffnInGradients = buffers(units > 0 ? layers : 0, units * D)
        ffnBiasGradients = buffers(units > 0 ? layers : 0, units)
        ffnOutGradients = buffers(units > 0 ? layers : 0, units * D)

        let classes = config.readout.isClassification ? config.classes : 0
        readoutWeight = ScalarBuffer(classes * D)
        readoutBias = ScalarBuffer(classes)
        pooled = ScalarBuffer(shape.batch * D)
        logits = ScalarBuffer(shape.batch * classes)
        readoutWeightGradient = ScalarBuffer(classes * D)
        readoutBiasGradient = ScalarBuffer(classes)
    }

    /// Readies block `block`'s output `streams[block + 1]` for the block to add its update to: the
    /// stream entering the block, or zeros when the block writes only its particles' part (``FusedShape/partialBlocks``).
    func startBlockOutput(_ block: Int) { startBlockOutput(block, rows: 0..<shape.rows) }

    /// The same for the rows `rows` of block `block`'s output.
    func startBlockOutput(_ block: Int, rows: Range<Int>) {
        let D = shape.dimension, offset = rows.lowerBound * D, count = rows.count * D
        let next = streams[block + 1].pointer + offset
        if shape.partialBlocks {
            next.update(repeating: 0, count: count)
        } else {
            next.update(from: streams[block].pointer + offset, count: count)
        }
    }

    /// Group `group`'s unit gradients of one feed-forward tile, `[rowsPerTile, M′]`.
    func unitGradientTile(group: Int) -> UnsafeMutablePointer<T> {
        unitGradientTiles.pointer + group * feedForwardTiles.rowsPerTile * shape.units
    }

    /// Group `group`'s bias-gradient sums of one tile, `[M′]`.
    func unitGradientSums(group: Int) -> UnsafeMutablePointer<T> { unitGradientSumsBuffer.pointer + group * shape.units }

    /// Group `group`'s (≥ 1) partial feed-forward weight gradients: a and b `[M′, D]`, c `[M′]`.
    func feedForwardPartials(group: Int) -> (a: UnsafeMutablePointer<T>, b: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>) {
        let units = shape.units, D = shape.dimension
        let start = feedForwardPartialsBuffer.pointer + (group - 1) * shape.feedForwardPartialScalars
        return (start, start + units * D, start + 2 * units * D)
    }

    /// Group `group`'s tile of ∂R/∂P `[rowsPerTile, projectionWidth]`, ∂R/∂Z `[rowsPerTile, M·d_h]` and
    /// ∂R/∂A `[n, n]` (factored attention).
    func attentionGradientTiles(group: Int) -> (projections: UnsafeMutablePointer<T>, headOutputs: UnsafeMutablePointer<T>,
                                                weights: UnsafeMutablePointer<T>) {
        let rows = attentionTiles.rowsPerTile, n = shape.tokens
        return (projectionGradient.pointer + group * rows * shape.projectionWidth,
                headOutputGradient.pointer + group * rows * shape.headOutputWidth, weightGradient.pointer + group * n * n)
    }

    /// Group `group`'s (≥ 1) partial gradients of Ocat `[D, M·d_h]` and Wcat `[projectionWidth, D]` (factored attention).
    func attentionPartials(group: Int) -> (output: UnsafeMutablePointer<T>, projection: UnsafeMutablePointer<T>) {
        let start = attentionPartialsBuffer.pointer + (group - 1) * shape.attentionPartialScalars
        return (start, start + shape.dimension * shape.headOutputWidth)
    }

    /// Where layer `layer`'s feed-forward pre-activations live: their own buffer, or for ReLU
    /// (``FusedShape/keepsPreActivations``) the activations' buffer, where they are computed and then
    /// replaced by ReLU(pre).
    func preActivations(layer: Int) -> UnsafeMutablePointer<T> {
        shape.keepsPreActivations ? keptPreActivations[layer].pointer : activations[layer].pointer
    }

    /// Where the attention weights of sequence `b` (merged: all heads, `head` ignored; factored: head
    /// `head`) live while layer `layer` uses them.
    func attentionWeights(layer: Int, sequence b: Int, head: Int) -> UnsafeMutablePointer<T> {
        if shape.recomputesAttentionWeights { return weights[0].pointer + b * shape.sequenceWeightScalars }
        let n = shape.tokens, factored = shape.config.attention == .factored
        return weights[layer].pointer + (b * shape.heads + (factored ? head : 0)) * n * n
    }

    /// The tensor a block reads: its layer-normalised input (pre-norm) or the stream itself.
    func blockInput(_ block: Int) -> UnsafeMutablePointer<T> {
        shape.config.preNorm ? normed[block].pointer : streams[block].pointer
    }
}

extension FusedShape {
    /// Scalars of the buffers ``FusedWorkspace`` allocates for `config` and a batch of `batch`
    /// sequences of `tokens` tokens with ``AttentionWeightStorage/automatic`` (keep in step with
    /// `FusedWorkspace.init`).
    package static func workspaceScalars(_ config: TransformerConfig, batch: Int, tokens: Int) -> Double {
        // In Double from the sizes (FusedShape's Int products could pass Int.max for absurd sizes).
        let n = Double(tokens), B = Double(batch), R = B * n, D = Double(config.dimension), M = Double(config.heads)
        let units = Double(config.ffnUnits), layers = Double(config.layers), blocks = layers * (config.ffnUnits > 0 ? 2 : 1)
        let factored = config.attention == .factored, headDimension = Double(config.headDimension)
        let projection = factored ? 3 * M * headDimension : 2 * M * D, headOutput = M * headDimension
        let hasUnits = config.ffnUnits > 0 ? 1.0 : 0.0
        // Attention weights: per layer, or one slot per sequence (all heads merged, one head factored).
        let recomputes = recomputesAutomatically(config, batch: batch, tokens: tokens)
        var perLayer = R * projection + (recomputes ? 0 : B * M * n * n)   // projections, kept weights
        perLayer += factored ? R * headOutput : R * M * D       // head outputs or head-major values
        perLayer += hasUnits * R * units                        // activations
        perLayer += keepsPreActivations(config) ? R * units : 0 // pre-activations
        var total = (blocks + 1) * R * D + (config.preNorm ? blocks * R * (D + 1) : 0) + layers * perLayer   // streams, normed, 1/σ
        total += recomputes ? B * (factored ? 1 : M) * n * n : 0
        // Backward scratch shared by the layers.
        total += 3 * R * D
        if factored {
            // Per group of attention tiles: ∂P and ∂Z of one tile, ∂A of one head; partial Ocat and Wcat gradients.
            let tiles = RowTiles.attention(batch: batch, tokens: tokens, width: Int(exactly: projection) ?? .max), groups = Double(tiles.groups)
            total += groups * (Double(tiles.rowsPerTile) * (projection + headOutput) + n * n) + (groups - 1) * (D * headOutput + projection * D)
        } else {
            total += R * projection + B * M * n * n + R * M * D
        }
        // The feed-forward's per-group tile of unit gradients, bias sums and partial weight gradients.
        if config.ffnUnits > 0 {
            let tiles = RowTiles.feedForward(batch: batch, tokens: tokens, units: config.ffnUnits), groups = Double(tiles.groups)
            total += groups * units * (Double(tiles.rowsPerTile) + 1) + (groups - 1) * units * (2 * D + 1)
        }
        // Packed parameters and their gradients.
        let packed = projection * D + (factored ? D * headOutput : 0) + hasUnits * units * (2 * D + 1)
        total += 2 * layers * packed + 2 * Double(config.classes) * (D + 1) + B * (D + Double(config.classes))
        return total
    }
}
