// The feed-forward half-step of one layer (theory §1.2), forward and backward, all M′ units as
// two GEMMs on token-major tokens U `[R = B·n, D]`:
//   pre = U·bᵀ + c `[R, M′]`,  act = σ(pre),  next = stream + (step/M′)·act·a
// ReLU keeps no pre-activations (FusedShape.keepsPreActivations, FusedWorkspace.preActivations(layer:)):
// pre is computed in the activations' buffer and replaced by σ(pre) there; the backward mask reads act.
import MeanFieldCore

enum FusedFeedForward {
    /// next = stream + (step/M′)·Σ_j a_j σ(b_jᵀu + c_j) for layer `layer`, block `block`.
    static func forward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, units = shape.units
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let pre = w.preActivations(layer: layer), act = w.activations[layer].pointer
        FusedKernels.gemm(false, true, R, units, D, 1, U, D, w.ffnIn[layer].pointer, D, 0, pre, units)
        FusedKernels.activationForward(config.activation, pre: pre, bias: w.ffnBias[layer].pointer, act: act, rows: R, units: units)
        w.startBlockOutput(block)
        FusedKernels.gemm(false, false, R, D, units, T(config.residualStep) / T(shape.unitDivisor), act, units, w.ffnOut[layer].pointer, D, 1, next, D)
    }

    /// Given G = ∂R/∂next in `w.streamGradient`, writes ∂R/∂U into `w.normedGradient` and the
    /// layer's parameter gradients into their buffers.
    static func backward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, units = shape.units
        let factor = T(config.residualStep) / T(shape.unitDivisor)
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let pre = w.preActivations(layer: layer), act = w.activations[layer].pointer
        let dPre = w.unitGradient.pointer
        // out = factor·act·a: da = factor·actᵀ·G, dact = factor·G·aᵀ.
        FusedKernels.gemm(true, false, units, D, R, factor, act, units, G, D, 0, w.ffnOutGradients[layer].pointer, D)
        FusedKernels.gemm(false, true, R, units, D, factor, G, D, w.ffnOut[layer].pointer, D, 0, dPre, units)
        FusedKernels.activationBackward(config.activation, pre: pre, act: act, gradient: dPre, count: R * units)
        // pre = U·bᵀ + c: dc = Σ_rows dpre, db = dpreᵀ·U, dU = dpre·b.
        FusedKernels.columnSums(dPre, rows: R, columns: units, into: w.ffnBiasGradients[layer].pointer)
        FusedKernels.gemm(true, false, units, D, R, 1, dPre, units, U, D, 0, w.ffnInGradients[layer].pointer, D)
        FusedKernels.gemm(false, false, R, D, units, 1, dPre, units, w.ffnIn[layer].pointer, D, 0, dU, D)
    }
}
