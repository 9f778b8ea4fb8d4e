// The feed-forward half-step of one layer (theory §1.2), forward and backward, all M′ units as
// GEMMs on token-major tokens U `[R = B·n, D]`:
//   pre = U·bᵀ + c `[R, M′]`,  act = σ(pre),  next = stream + (step/M′)·act·a
// ReLU keeps no pre-activations (FusedShape.keepsPreActivations, FusedWorkspace.preActivations(layer:)):
// pre is computed in the activations' buffer and replaced by σ(pre) there; the backward mask reads act.
//
// Both passes run tile by tile over the rows (RowTiles.feedForward): each tile's pre-activations and
// unit gradients stay in the core's second-level cache between the GEMM that writes them, the
// activation and the GEMMs that read them, instead of making six passes over `[R, M′]` in memory
// (benchmarks/RESULTS.md, "Blocks tile by tile"). Tiles are cut by rows alone and the
// weight gradients are summed per fixed group of tiles, then over the groups in order: the same
// bits on any thread count.
import MeanFieldCore
import MeanFieldKernels

enum FusedFeedForward {
    /// next = stream + (step/M′)·Σ_j a_j σ(b_jᵀu + c_j) for layer `layer`, block `block`.
    static func forward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config, tiles = w.feedForwardTiles
        let D = shape.dimension, units = shape.units
        let factor = T(config.residualStep) / T(shape.unitDivisor)
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let pre = w.preActivations(layer: layer), act = w.activations[layer].pointer
        let b = w.ffnIn[layer].pointer, c = w.ffnBias[layer].pointer, a = w.ffnOut[layer].pointer
        Threading.parallelFor(tiles.count) { tile in
            let rows = tiles.rows(tile), first = rows.lowerBound, m = rows.count
            let tilePre = pre + first * units, tileAct = act + first * units
            FusedKernels.gemm(false, true, m, units, D, 1, U + first * D, D, b, D, 0, tilePre, units)                 // [m, M′]
            FusedKernels.activationForward(config.activation, pre: tilePre, bias: c, act: tileAct, rows: m, units: units)
            w.startBlockOutput(block, rows: rows)
            FusedKernels.gemm(false, false, m, D, units, factor, tileAct, units, a, D, 1, next + first * D, D)          // [m, D]
        }
    }

    /// Given G = ∂R/∂next in `w.streamGradient`, writes ∂R/∂U into `w.normedGradient` and the
    /// layer's parameter gradients into their buffers.
    static func backward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config, tiles = w.feedForwardTiles
        let D = shape.dimension, units = shape.units
        let factor = T(config.residualStep) / T(shape.unitDivisor)
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let pre = w.preActivations(layer: layer), act = w.activations[layer].pointer
        let b = w.ffnIn[layer].pointer, a = w.ffnOut[layer].pointer
        let gradients = (a: w.ffnOutGradients[layer].pointer, b: w.ffnInGradients[layer].pointer, c: w.ffnBiasGradients[layer].pointer)
        tiles.forEachTileByGroup { group, tile, firstOfGroup in
            // Group 0 sums into the layer's gradients, the others into their partials (added below).
            let sums = group == 0 ? gradients : w.feedForwardPartials(group: group)
            let dPre = w.unitGradientTile(group: group), tileBiasSums = w.unitGradientSums(group: group)
            let rows = tiles.rows(tile), first = rows.lowerBound, m = rows.count
            let accumulate: T = firstOfGroup ? 0 : 1
            let tileAct = act + first * units, tileG = G + first * D, tileU = U + first * D
            // out = factor·act·a: da += factor·actᵀ·G, dact = factor·G·aᵀ.
            FusedKernels.gemm(true, false, units, D, m, factor, tileAct, units, tileG, D, accumulate, sums.a, D)  // [M′, D]
            FusedKernels.gemm(false, true, m, units, D, factor, tileG, D, a, D, 0, dPre, units)                    // [m, M′]
            FusedKernels.activationBackward(config.activation, pre: pre + first * units, act: tileAct, gradient: dPre, count: m * units)
            // pre = U·bᵀ + c: dc += Σ_rows dpre, db += dpreᵀ·U, dU = dpre·b.
            FusedKernels.columnSums(dPre, rows: m, columns: units, into: firstOfGroup ? sums.c : tileBiasSums)
            if !firstOfGroup { for u in 0..<units { sums.c[u] += tileBiasSums[u] } }
            FusedKernels.gemm(true, false, units, D, m, 1, dPre, units, tileU, D, accumulate, sums.b, D)           // [M′, D]
            FusedKernels.gemm(false, false, m, D, units, 1, dPre, units, b, D, 0, dU + first * D, D)                // [m, D]
        }
        // The groups' partial sums, added in group order.
        let partials = (1..<tiles.groups).map { w.feedForwardPartials(group: $0) }
        FusedKernels.addInOrder(partials.map(\.a), into: gradients.a, count: units * D)
        FusedKernels.addInOrder(partials.map(\.b), into: gradients.b, count: units * D)
        FusedKernels.addInOrder(partials.map(\.c), into: gradients.c, count: units)
    }
}
