// The feed-forward half-step of one layer (theory §1.2), forward and backward, all M′ units as
// GEMMs on token-major tokens U `[R = B·n, D]`:
//   pre = U·bᵀ + c `[R, M′]`,  act = σ(pre),  next = stream + (step/M′)·act·a
// Both passes run over blocks of `rowBlock` rows, so that a block's `[rowBlock, M′]` pre-activations
// (forward) or their gradient (backward, which exists only as one such block) are still in L2 when the
// next pass over them reads them: the activation, the bias sum and the second product. The parameter
// gradients sum over the blocks in order, each block's rows in order: one GEMM per block with beta = 1
// after the first adds them as the GEMM's own depth blocks do, and the bias sums continue one running
// sum, so the bits do not depend on the thread count.
import MeanFieldCore

enum FusedFeedForward {
    /// Rows per block: at M′ = 256 a Float block of pre-activations is 256 KB, within L2.
    static let rowBlock = 256

    /// next = stream + (step/M′)·Σ_j a_j σ(b_jᵀu + c_j) for layer `layer`, block `block`.
    static func forward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, units = shape.units
        let factor = T(config.residualStep) / T(shape.unitDivisor)
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let pre = w.preActivations[layer].pointer, act = w.activations[layer].pointer
        w.startBlockOutput(block)
        for start in stride(from: 0, to: R, by: rowBlock) {
            let rows = min(rowBlock, R - start)
            let preBlock = pre + start * units, actBlock = act + start * units
            FusedKernels.gemm(false, true, rows, units, D, 1, U + start * D, D, w.ffnIn[layer].pointer, D, 0, preBlock, units)
            FusedKernels.activationForward(config.activation, pre: preBlock, bias: w.ffnBias[layer].pointer, act: actBlock, rows: rows, units: units)
            FusedKernels.gemm(false, false, rows, D, units, factor, actBlock, units, w.ffnOut[layer].pointer, D, 1, next + start * D, D)
        }
    }

    /// Given G = ∂R/∂next in `w.streamGradient`, writes ∂R/∂U into `w.normedGradient` and the
    /// layer's parameter gradients into their buffers.
    static func backward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, units = shape.units
        let factor = T(config.residualStep) / T(shape.unitDivisor)
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let pre = w.preActivations[layer].pointer, act = w.activations[layer].pointer
        let dPre = w.unitGradient.pointer                                  // one block: [rows, M′]
        let da = w.ffnOutGradients[layer].pointer, db = w.ffnInGradients[layer].pointer, dc = w.ffnBiasGradients[layer].pointer
        dc.update(repeating: 0, count: units)
        for start in stride(from: 0, to: R, by: rowBlock) {
            let rows = min(rowBlock, R - start), sum: T = start == 0 ? 0 : 1
            let Gb = G + start * D, Ub = U + start * D
            // out = factor·act·a: da += factor·actᵀ·G, dact = factor·G·aᵀ.
            FusedKernels.gemm(true, false, units, D, rows, factor, act + start * units, units, Gb, D, sum, da, D)
            FusedKernels.gemm(false, true, rows, units, D, factor, Gb, D, w.ffnOut[layer].pointer, D, 0, dPre, units)
            FusedKernels.activationBackward(config.activation, pre: pre + start * units, act: act + start * units, gradient: dPre, count: rows * units)
            // pre = U·bᵀ + c: dc += Σ_rows dpre, db += dpreᵀ·U, dU = dpre·b.
            FusedKernels.addColumnSums(dPre, rows: rows, columns: units, to: dc)
            FusedKernels.gemm(true, false, units, D, rows, 1, dPre, units, Ub, D, sum, db, D)
            FusedKernels.gemm(false, false, rows, D, units, 1, dPre, units, w.ffnIn[layer].pointer, D, 0, dU + start * D, D)
        }
    }
}
