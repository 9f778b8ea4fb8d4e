// The attention half-step of one layer (theory §1.2), forward and backward, with all M heads as
// batched matrix work on token-major tokens U `[R = B·n, D]` (row b·n + i = token i of sequence b).
// Scores are stored with one row per query: T[q, i] = S_{i q} of theory §1.2, so the softmax over
// keys is a contiguous row (fused forward and backward in FusedKernels).
//
// merged (all heads share the keys U_b, so a sequence's heads are ONE product each way):
//   Y = U·W_KQᵀ, V = U·W_OVᵀ             two GEMMs [R, D]·[D, M·D]; Y_b read as rows (q, j)
//   T_b = scale·Y_b·U_bᵀ                  one GEMM [n·M, D]·[D, n] per sequence, rows (q, j)
//   out_b += (step/M)·A_b·V_b             one GEMM [n, M·n]·[M·n, D] (V_b head-major)
// (M is ``TransformerConfig/headDivisor``: M, or √M or 1 with another head scaling.)
// factored (keys differ per head: small products per (sequence, head)):
//   P = U·[Q; K; V]ᵀ                      one GEMM [R, D]·[D, 3·M·d_h]
//   T = scale·Qv_j·Kv_jᵀ,  Z_j = A·Vv_j  per (b, j);   out += (step/M)·Z·Ocatᵀ  one GEMM
// Factored: tile by tile over whole sequences (RowTiles.attention): a tile's projections, head
// outputs and their gradients stay in the core's cache from the GEMM that writes them to the small
// products that read them; Ocat's and Wcat's gradients are summed per fixed group of tiles, then
// over the groups in order. Blocks that the small products would otherwise miss on one by one are
// asked for at once (MeanFieldKernels Prefetch; hints, the same bits): factored, each sequence's head
// outputs before they are written and its kept projections before the backward reads them; merged
// backward, the rows of ∂A_b before their first product writes them.
// Tiles or sequences run in parallel (each writes only its own rows); heads run in order inside a
// sequence, so every sum over heads has a fixed order. The merged layout sums over the batch
// inside single GEMMs; every sum is in an order fixed by the shape, never by the thread count.
// The attention weights A come from one function per layout (mergedWeights, factoredWeights); the
// backward pass reads them back, or calls it again when they were not kept (AttentionWeightStorage).
import MeanFieldCore
import MeanFieldKernels

enum FusedAttention {
    static func forward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        if w.shape.config.attention == .merged { forwardMerged(w, layer: layer, block: block) } else { forwardFactored(w, layer: layer, block: block) }
    }

    /// Given G = ∂R/∂next in `w.streamGradient`, writes ∂R/∂U (the block input) into
    /// `w.normedGradient` and the layer's parameter gradients into their buffers.
    static func backward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        if w.shape.config.attention == .merged { backwardMerged(w, layer: layer, block: block) } else { backwardFactored(w, layer: layer, block: block) }
    }

    /// next = stream + (step/M)·Σ_j W_OV,j·U·A_j (merged heads).
    static func forwardMerged<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, M = shape.heads, n = shape.tokens, MD = M * D
        let step = T(config.residualStep)
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let Y = w.projections[layer].pointer, V = Y + R * MD, values = w.headMajorValues[layer].pointer
        let Wcat = w.projectionWeights[layer].pointer

        FusedKernels.gemm(false, true, R, MD, D, 1, U, D, Wcat, D, 0, Y, MD)
        FusedKernels.gemm(false, true, R, MD, D, 1, U, D, Wcat + MD * D, D, 0, V, MD)
        w.startBlockOutput(block)
        Threading.parallelFor(shape.batch) { b in
            // V_b [i, (j, p)] → head-major [(j, i), p].
            let Vb = V + b * n * MD, valuesB = values + b * M * n * D
            FusedKernels.headMajor(Vb, valuesB, tokens: n, heads: M, width: D, toHeadMajor: true)
            let weights = w.attentionWeights(layer: layer, sequence: b, head: 0)  // [(q, j), i]
            mergedWeights(w, layer: layer, block: block, sequence: b, into: weights)
            FusedKernels.gemm(false, false, n, D, M * n, step / T(shape.headDivisor), weights, M * n, valuesB, D, 1, next + b * n * D, D)
        }
    }

    static func backwardMerged<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, M = shape.heads, n = shape.tokens, MD = M * D
        let step = T(config.residualStep), scale = T(config.scoreScale), map = config.scoreMap
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let Y = w.projections[layer].pointer, values = w.headMajorValues[layer].pointer
        let dY = w.projectionGradient.pointer, dV = dY + R * MD, dValues = w.headMajorGradient.pointer
        let Wcat = w.projectionWeights[layer].pointer, dWcat = w.projectionWeightGradients[layer].pointer
        Threading.parallelFor(shape.batch) { b in
            let weights = w.attentionWeights(layer: layer, sequence: b, head: 0), dWeights = w.weightGradient.pointer + b * n * M * n
            if shape.recomputesAttentionWeights { mergedWeights(w, layer: layer, block: block, sequence: b, into: weights) }
            // ∂A_b's rows, about to be written by its first product (Prefetch).
            Prefetch.lines(from: dWeights, bytes: n * M * n * MemoryLayout<T>.stride, forWrite: true)
            let Gb = G + b * n * D, Ub = U + b * n * D
            let valuesB = values + b * M * n * D, dValuesB = dValues + b * M * n * D
            // out_b = (step/M)·A_b·V_b: dA_b = (step/M)·G_b·V_bᵀ, dV_b = (step/M)·A_bᵀ·G_b.
            FusedKernels.gemm(false, true, n, M * n, D, step / T(shape.headDivisor), Gb, D, valuesB, D, 0, dWeights, M * n)
            // dWeights becomes ∂R/∂T_raw (T_raw = Y_b·U_bᵀ; the score scale is folded in). Before dV_b: this
            // reads the kept weights in memory order, which the hardware prefetchers follow, and leaves
            // them in cache for dV_b's reads across their rows (which had waited on memory).
            FusedKernels.scoreMapBackward(map, weights: weights, gradient: dWeights, rowCount: n * M, tokens: n, scale: scale)
            FusedKernels.gemm(true, false, M * n, D, n, step / T(shape.headDivisor), weights, M * n, Gb, D, 0, dValuesB, D)
            let dVb = dV + b * n * MD
            FusedKernels.headMajor(dValuesB, dVb, tokens: n, heads: M, width: D, toHeadMajor: false)
            // dY_b = dT·U_b; dU_b (key side) = dTᵀ·Y_b.
            FusedKernels.gemm(false, false, n * M, D, n, 1, dWeights, n, Ub, D, 0, dY + b * n * MD, D)
            FusedKernels.gemm(true, false, n, D, n * M, 1, dWeights, n, Y + b * n * MD, D, 0, dU + b * n * D, D)
        }
        // Y = U·W_KQᵀ, V = U·W_OVᵀ: parameter gradients summed over the batch inside the GEMMs.
        FusedKernels.gemm(true, false, MD, D, R, 1, dY, MD, U, D, 0, dWcat, D)
        FusedKernels.gemm(true, false, MD, D, R, 1, dV, MD, U, D, 0, dWcat + MD * D, D)
        FusedKernels.gemm(false, false, R, D, MD, 1, dY, MD, Wcat, D, 1, dU, D)
        FusedKernels.gemm(false, false, R, D, MD, 1, dV, MD, Wcat + MD * D, D, 1, dU, D)
    }

    /// next = stream + (step/M)·Σ_j O_j·V_j·U·A_j (factored heads), tile by tile (``RowTiles``): a
    /// tile's projections are computed right before its heads read them and its head outputs right
    /// before the output projection reads them, all in the core's cache.
    static func forwardFactored<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config, tiles = w.attentionTiles
        let D = shape.dimension, M = shape.heads, n = shape.tokens
        let width = shape.headWidth, pw = shape.projectionWidth
        let factor = T(config.residualStep) / T(shape.headDivisor)
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let P = w.projections[layer].pointer, Wcat = w.projectionWeights[layer].pointer, Ocat = w.outputWeights[layer].pointer
        let Z = w.headOutputs[layer].pointer, zWidth = shape.headOutputWidth
        Threading.parallelFor(tiles.count) { tile in
            let rows = tiles.rows(tile), first = rows.lowerBound, m = rows.count
            FusedKernels.gemm(false, true, m, pw, D, 1, U + first * D, D, Wcat, D, 0, P + first * pw, pw)             // [m, 3·M·d_h]
            for b in (first / n)..<(rows.upperBound / n) {
                let Pb = P + b * n * pw
                // The sequence's head outputs, about to be written head by head (Prefetch).
                Prefetch.lines(from: Z + b * n * zWidth, bytes: n * zWidth * MemoryLayout<T>.stride, forWrite: true)
                for j in 0..<M {
                    let weights = w.attentionWeights(layer: layer, sequence: b, head: j)
                    factoredWeights(w, layer: layer, sequence: b, head: j, into: weights)
                    let values = Pb + 2 * M * width + j * width
                    FusedKernels.gemm(false, false, n, width, n, 1, weights, n, values, pw, 0, Z + b * n * zWidth + j * width, zWidth)
                }
            }
            w.startBlockOutput(block, rows: rows)
            FusedKernels.gemm(false, true, m, D, zWidth, factor, Z + first * zWidth, zWidth, Ocat, zWidth, 1, next + first * D, D)  // [m, D]
        }
    }

    /// The factored backward, tile by tile: per fixed group of tiles (``RowTiles``), the tile's ∂Z
    /// and ∂P and each head's ∂A live in the group's scratch (cache-warm from tile to tile); the
    /// Ocat and Wcat gradients are summed per group, then over the groups in order.
    static func backwardFactored<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config, tiles = w.attentionTiles
        let D = shape.dimension, M = shape.heads, n = shape.tokens
        let width = shape.headWidth, pw = shape.projectionWidth
        let factor = T(config.residualStep) / T(shape.headDivisor), scale = T(config.scoreScale), map = config.scoreMap
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let P = w.projections[layer].pointer, Wcat = w.projectionWeights[layer].pointer, Ocat = w.outputWeights[layer].pointer
        let Z = w.headOutputs[layer].pointer, zWidth = shape.headOutputWidth
        let gradients = (output: w.outputWeightGradients[layer].pointer, projection: w.projectionWeightGradients[layer].pointer)
        tiles.forEachTileByGroup { group, tile, firstOfGroup in
            // Group 0 sums into the layer's gradients, the others into their partials (added below).
            let sums = group == 0 ? gradients : w.attentionPartials(group: group)
            let (dP, dZ, dWeights) = w.attentionGradientTiles(group: group)
            let rows = tiles.rows(tile), first = rows.lowerBound, m = rows.count
            let accumulate: T = firstOfGroup ? 0 : 1
            let tileG = G + first * D
            // out = factor·Z·Ocatᵀ: dOcat += factor·Gᵀ·Z, dZ = factor·G·Ocat.
            FusedKernels.gemm(true, false, D, zWidth, m, factor, tileG, D, Z + first * zWidth, zWidth, accumulate, sums.output, zWidth)
            FusedKernels.gemm(false, false, m, zWidth, D, factor, tileG, D, Ocat, zWidth, 0, dZ, zWidth)              // [m, M·d_h]
            for b in (first / n)..<(rows.upperBound / n) {
                let Pb = P + b * n * pw, local = b - first / n, dPb = dP + local * n * pw
                // The sequence's projections, kept since the forward pass: from memory at once (Prefetch).
                Prefetch.lines(from: Pb, bytes: n * pw * MemoryLayout<T>.stride, forWrite: false)
                for j in 0..<M {
                    let weights = w.attentionWeights(layer: layer, sequence: b, head: j)
                    if shape.recomputesAttentionWeights { factoredWeights(w, layer: layer, sequence: b, head: j, into: weights) }
                    let queries = Pb + j * width, keys = Pb + M * width + j * width, values = Pb + 2 * M * width + j * width
                    let dZbj = dZ + local * n * zWidth + j * width
                    // Z_j = A_j·Vv_j: dA_j = dZ_j·Vv_jᵀ, dVv_j = A_jᵀ·dZ_j.
                    FusedKernels.gemm(false, true, n, n, width, 1, dZbj, zWidth, values, pw, 0, dWeights, n)
                    // dWeights becomes ∂R/∂T_raw (T_raw = Qv_j·Kv_jᵀ; the score scale is folded in); first, to
                    // read the kept weights in memory order (as in the merged layout).
                    FusedKernels.scoreMapBackward(map, weights: weights, gradient: dWeights, rowCount: n, tokens: n, scale: scale)
                    FusedKernels.gemm(true, false, n, width, n, 1, weights, n, dZbj, zWidth, 0, dPb + 2 * M * width + j * width, pw)
                    // dQv_j = dT·Kv_j, dKv_j = dTᵀ·Qv_j.
                    FusedKernels.gemm(false, false, n, width, n, 1, dWeights, n, keys, pw, 0, dPb + j * width, pw)
                    FusedKernels.gemm(true, false, n, width, n, 1, dWeights, n, queries, pw, 0, dPb + M * width + j * width, pw)
                }
            }
            // P = U·Wcatᵀ: dWcat += dPᵀ·U, dU = dP·Wcat.
            FusedKernels.gemm(true, false, pw, D, m, 1, dP, pw, U + first * D, D, accumulate, sums.projection, D)   // [3·M·d_h, D]
            FusedKernels.gemm(false, false, m, D, pw, 1, dP, pw, Wcat, D, 0, dU + first * D, D)                       // [m, D]
        }
        // The groups' partial sums, added in group order.
        let partials = (1..<tiles.groups).map { w.attentionPartials(group: $0) }
        FusedKernels.addInOrder(partials.map(\.output), into: gradients.output, count: D * zWidth)
        FusedKernels.addInOrder(partials.map(\.projection), into: gradients.projection, count: pw * D)
    }

    /// The attention weights of sequence b, all heads (merged): A_b = map(scale·Y_b·U_bᵀ) `[(q, j), i]`,
    /// the same bits in the forward pass and in the backward pass's recomputation.
    static func mergedWeights<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int, sequence b: Int, into weights: UnsafeMutablePointer<T>) {
        let shape = w.shape, config = shape.config
        let D = shape.dimension, M = shape.heads, n = shape.tokens, MD = M * D
        let Y = w.projections[layer].pointer, U = w.blockInput(block)
        FusedKernels.gemm(false, true, n * M, n, D, T(config.scoreScale), Y + b * n * MD, D, U + b * n * D, D, 0, weights, n)
        FusedKernels.scoreMapForward(config.scoreMap, weights, rowCount: n * M, tokens: n)
    }

    /// The attention weights of sequence b, head j (factored): A = map(scale·Qv_j·Kv_jᵀ) `[q, i]`,
    /// the same bits in the forward pass and in the backward pass's recomputation.
    static func factoredWeights<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, sequence b: Int, head j: Int, into weights: UnsafeMutablePointer<T>) {
        let shape = w.shape, config = shape.config
        let n = shape.tokens, width = shape.headWidth, pw = shape.projectionWidth
        let Pb = w.projections[layer].pointer + b * n * pw
        let queries = Pb + j * width, keys = Pb + shape.heads * width + j * width
        FusedKernels.gemm(false, true, n, n, width, T(config.scoreScale), queries, pw, keys, pw, 0, weights, n)
        FusedKernels.scoreMapForward(config.scoreMap, weights, rowCount: n, tokens: n)
    }
}
