// The attention half-step of one layer (PAPERS §1.2), forward and backward, with all M heads as
// batched matrix work on token-major tokens U `[R = B·n, D]` (row b·n + i = token i of sequence b):
//
//   P = U·Wcatᵀ                       one GEMM [R, D]·[D, P-width] for every head's projections
//   merged:   Y_j = rows of W_KQ,j·u,  V_j = W_OV,j·u        (P = [Y_1 … Y_M | V_1 … V_M])
//   factored: Qv_j = Q_j·u, Kv_j = K_j·u, Vv_j = V_j·u       (P = [Qv | Kv | Vv])
//   per (sequence b, head j): T = scale·Y_j·U_bᵀ (merged) or scale·Qv_j·Kv_jᵀ (factored),
//     `[n queries, n keys]`, so T[q, i] = S_{i q} of PAPERS §1.2 and the softmax over keys is a row;
//     A = map(T) (fused softmax);  merged: out_b += (step/M)·A·V_j;  factored: Z_j = A·Vv_j
//   factored: out += (step/M)·Z·Ocatᵀ   one GEMM [R, M·d_h]·[M·d_h, D]
// Sequences run in parallel (each writes only its own rows); heads run in order inside a sequence,
// so every sum over heads has a fixed order. Sums over the batch happen inside single GEMMs.
import MeanFieldCore
import MeanFieldKernels

enum FusedAttention {
    /// next = stream + (step/M)·Σ_j f(U; θ_j) for layer `layer`, block `block`.
    static func forward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, M = shape.heads, n = shape.tokens
        let width = shape.headWidth, pw = shape.projectionWidth
        let merged = config.attention == .merged
        let step = T(config.residualStep), scale = T(config.scoreScale), map = config.scoreMap
        let U = w.blockInput(block), next = w.streams[block + 1].pointer
        let P = w.projections[layer].pointer, A = w.weights[layer].pointer

        FusedKernels.gemm(false, true, R, pw, D, 1, U, D, w.projectionWeights[layer].pointer, D, 0, P, pw)
        FusedKernels.copy(w.streams[block].pointer, into: next, count: R * D)
        let Z = merged ? nil : w.headOutputs[layer].pointer
        let zWidth = shape.headOutputWidth
        Threading.parallelFor(shape.batch) { b in
            let Pb = P + b * n * pw
            for j in 0..<M {
                let weights = A + (b * M + j) * n * n
                let queries = Pb + j * width
                let (keys, keyStride) = merged ? (U + b * n * D, D) : (Pb + M * width + j * width, pw)
                FusedKernels.gemm(false, true, n, n, width, scale, queries, pw, keys, keyStride, 0, weights, n)
                FusedKernels.scoreMapForward(map, weights, tokens: n)
                if merged {
                    let values = Pb + M * D + j * D
                    FusedKernels.gemm(false, false, n, D, n, step / T(M), weights, n, values, pw, 1, next + b * n * D, D)
                } else {
                    let values = Pb + 2 * M * width + j * width
                    FusedKernels.gemm(false, false, n, width, n, 1, weights, n, values, pw, 0, Z! + b * n * zWidth + j * width, zWidth)
                }
            }
        }
        if let Z {
            FusedKernels.gemm(false, true, R, D, zWidth, step / T(M), Z, zWidth, w.outputWeights[layer].pointer, zWidth, 1, next, D)
        }
    }

    /// Given G = ∂R/∂next in `w.streamGradient`, writes ∂R/∂U (the block input) into
    /// `w.normedGradient` and the layer's parameter gradients into their buffers.
    static func backward<T: TensorScalar>(_ w: FusedWorkspace<T>, layer: Int, block: Int) {
        let shape = w.shape, config = shape.config
        let R = shape.rows, D = shape.dimension, M = shape.heads, n = shape.tokens
        let width = shape.headWidth, pw = shape.projectionWidth
        let merged = config.attention == .merged
        let step = T(config.residualStep), scale = T(config.scoreScale), map = config.scoreMap
        let U = w.blockInput(block), G = w.streamGradient.pointer, dU = w.normedGradient.pointer
        let P = w.projections[layer].pointer, A = w.weights[layer].pointer
        let dP = w.projectionGradient.pointer, dWeightsAll = w.weightGradient.pointer
        let zWidth = shape.headOutputWidth
        var dZ: UnsafeMutablePointer<T>? = nil
        if !merged {
            // out = (step/M)·Z·Ocatᵀ: dOcat = (step/M)·Gᵀ·Z, dZ = (step/M)·G·Ocat.
            let Z = w.headOutputs[layer].pointer, gradientZ = w.headOutputGradient.pointer
            FusedKernels.gemm(true, false, D, zWidth, R, step / T(M), G, D, Z, zWidth, 0, w.outputWeightGradients[layer].pointer, zWidth)
            FusedKernels.gemm(false, false, R, zWidth, D, step / T(M), G, D, w.outputWeights[layer].pointer, zWidth, 0, gradientZ, zWidth)
            dZ = gradientZ
        }
        Threading.parallelFor(shape.batch) { b in
            let Pb = P + b * n * pw, dPb = dP + b * n * pw, dWeights = dWeightsAll + b * n * n
            for j in 0..<M {
                let weights = A + (b * M + j) * n * n
                let queries = Pb + j * width, dQueries = dPb + j * width
                if merged {
                    // out_b = (step/M)·Σ_j A_j·V_j: dA_j = (step/M)·G_b·V_jᵀ, dV_j = (step/M)·A_jᵀ·G_b.
                    let values = Pb + M * D + j * D, Gb = G + b * n * D
                    FusedKernels.gemm(false, true, n, n, D, step / T(M), Gb, D, values, pw, 0, dWeights, n)
                    FusedKernels.gemm(true, false, n, D, n, step / T(M), weights, n, Gb, D, 0, dPb + M * D + j * D, pw)
                } else {
                    // Z_j = A_j·Vv_j: dA_j = dZ_j·Vv_jᵀ, dVv_j = A_jᵀ·dZ_j.
                    let values = Pb + 2 * M * width + j * width, dZbj = dZ! + b * n * zWidth + j * width
                    FusedKernels.gemm(false, true, n, n, width, 1, dZbj, zWidth, values, pw, 0, dWeights, n)
                    FusedKernels.gemm(true, false, n, width, n, 1, weights, n, dZbj, zWidth, 0, dPb + 2 * M * width + j * width, pw)
                }
                // dWeights becomes ∂R/∂T_raw (T_raw = queries·keysᵀ; the score scale is folded in).
                FusedKernels.scoreMapBackward(map, weights: weights, gradient: dWeights, tokens: n, scale: scale)
                if merged {
                    // T = Y_j·U_bᵀ: dY_j = dT·U_b; dU_b (key side) += dTᵀ·Y_j, heads in order.
                    let Ub = U + b * n * D
                    FusedKernels.gemm(false, false, n, D, n, 1, dWeights, n, Ub, D, 0, dQueries, pw)
                    FusedKernels.gemm(true, false, n, D, n, 1, dWeights, n, queries, pw, j == 0 ? 0 : 1, dU + b * n * D, D)
                } else {
                    // T = Qv_j·Kv_jᵀ: dQv_j = dT·Kv_j, dKv_j = dTᵀ·Qv_j.
                    let keys = Pb + M * width + j * width, dKeys = dPb + M * width + j * width
                    FusedKernels.gemm(false, false, n, width, n, 1, dWeights, n, keys, pw, 0, dQueries, pw)
                    FusedKernels.gemm(true, false, n, width, n, 1, dWeights, n, queries, pw, 0, dKeys, pw)
                }
            }
        }
        // P = U·Wcatᵀ: dWcat = dPᵀ·U (sum over the batch inside one GEMM), dU (+)= dP·Wcat.
        FusedKernels.gemm(true, false, pw, D, R, 1, dP, pw, U, D, 0, w.projectionWeightGradients[layer].pointer, D)
        FusedKernels.gemm(false, false, R, D, pw, 1, dP, pw, w.projectionWeights[layer].pointer, D, merged ? 1 : 0, dU, D)
    }
}
