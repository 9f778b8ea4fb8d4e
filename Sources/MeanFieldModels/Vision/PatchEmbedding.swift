// The ViT's input layer on plain buffers: patchify, and the patch + position embedding's forward
// and backward (a GEMM each way). VisionTransformer.swift is the model that uses them.
import MeanFieldCore

/// Cutting images into patches and embedding them as tokens (theory §1.1: "for images, tokens are
/// linearly embedded patches").
///
/// Layouts: images `[B, C, H, W]`; patches `[B, n_p, C·p·p]` with patch i = (row r, column c) of the
/// (H/p)×(W/p) grid in row-major order (i = r·(W/p) + c), and entry (ch, dy, dx) of a patch at
/// ch·p·p + dy·p + dx; tokens `[B, D, n]` (the engines' layout), n = n_p (+1 with a class token,
/// which is token 0).
public enum PatchEmbedding {
    /// `images` `[B, C, H, W]` → patches `[B, n_p, C·p·p]`. H and W must be multiples of p.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func patches<Scalar: TensorScalar>(_ images: Tensor<Scalar>, patch p: Int) -> Tensor<Scalar> {
        precondition(images.rank == 4, "PatchEmbedding.patches: images must be [B, C, H, W], got \(images.shape)")
        let (B, C, H, W) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(p >= 1 && H % p == 0 && W % p == 0, "PatchEmbedding.patches: patch \(p) does not tile \(H)×\(W)")
        let rows = H / p, columns = W / p, count = rows * columns, size = C * p * p
        return Tensor(shape: [B, count, size]) { out in
            images.withUnsafeBufferPointer { source in
                for b in 0..<B {
                    for r in 0..<rows {
                        for c in 0..<columns {
                            let base = (b * count + r * columns + c) * size
                            for ch in 0..<C {
                                for dy in 0..<p {
                                    let from = ((b * C + ch) * H + r * p + dy) * W + c * p
                                    let to = base + (ch * p + dy) * p
                                    for dx in 0..<p { out[to + dx] = source[from + dx] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// tokens[b, :, first + i] = E·x_{b,i} + bias + P[:, first + i]; with a class token (first = 1)
    /// also tokens[b, :, 0] = classToken + P[:, 0]. `patches` `[B, n_p, K]`, E `[D, K]`, bias `[D]`,
    /// P `[D, n]`, classToken `[D]` or nil. Returns `[B, D, n]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func forward<Scalar: TensorScalar>(patches: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>,
                                                     position: Tensor<Scalar>, classToken: Tensor<Scalar>?) -> Tensor<Scalar> {
        let (B, count, K) = (patches.shape[0], patches.shape[1], patches.shape[2])
        let D = weight.shape[0], first = classToken == nil ? 0 : 1, n = count + first
        precondition(weight.shape == [D, K] && bias.shape == [D] && position.shape == [D, n],
                     "PatchEmbedding.forward: E \(weight.shape), bias \(bias.shape), P \(position.shape) for \(count) patches of \(K)")
        // Y = X·Eᵀ, token-major [B·n_p, D].
        var projected = [Scalar](repeating: 0, count: B * count * D)
        patches.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { e in
                projected.withUnsafeMutableBufferPointer { y in
                    Scalar.gemm(transposeA: false, transposeB: true, m: B * count, n: D, k: K, alpha: 1, a: x.baseAddress!, lda: K,
                                b: e.baseAddress!, ldb: K, beta: 0, c: y.baseAddress!, ldc: D)
                }
            }
        }
        let bias = bias.scalars, position = position.scalars, token = classToken?.scalars
        return Tensor(shape: [B, D, n]) { out in
            for b in 0..<B {
                for p in 0..<D {
                    let row = (b * D + p) * n
                    if let token { out[row] = token[p] + position[p * n] }
                    for i in 0..<count {
                        out[row + first + i] = projected[(b * count + i) * D + p] + bias[p] + position[p * n + first + i]
                    }
                }
            }
        }
    }

    /// The gradients of the embedding parameters from ∂R/∂tokens `[B, D, n]` (see ``forward``):
    /// ∂E = Σ_{b,i} g_{b,i} x_{b,i}ᵀ (one GEMM), ∂bias = Σ_{b,i} g_{b,i}, ∂P[:, t] = Σ_b g_{b,t},
    /// ∂classToken = Σ_b g_{b,0} (nil without a class token). Sums run over b (then i) in order.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func backward<Scalar: TensorScalar>(tokenGradient g: Tensor<Scalar>, patches: Tensor<Scalar>, hasClassToken: Bool)
        -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>, position: Tensor<Scalar>, classToken: Tensor<Scalar>?) {
        let (B, count, K) = (patches.shape[0], patches.shape[1], patches.shape[2])
        let D = g.shape[1], n = g.shape[2], first = hasClassToken ? 1 : 0
        precondition(g.shape == [B, D, count + first], "PatchEmbedding.backward: token gradient \(g.shape) for \(count) patches")
        let upstream = g.scalars
        var projectedGradient = [Scalar](repeating: 0, count: B * count * D)   // ∂R/∂Y, [B·n_p, D]
        var position = [Scalar](repeating: 0, count: D * n), bias = [Scalar](repeating: 0, count: D)
        var token = [Scalar](repeating: 0, count: hasClassToken ? D : 0)
        for b in 0..<B {
            for p in 0..<D {
                let row = (b * D + p) * n
                for t in 0..<n { position[p * n + t] += upstream[row + t] }
                if hasClassToken { token[p] += upstream[row] }
                for i in 0..<count { projectedGradient[(b * count + i) * D + p] = upstream[row + first + i] }
            }
        }
        for r in 0..<(B * count) { for p in 0..<D { bias[p] += projectedGradient[r * D + p] } }
        let weight = Tensor<Scalar>(shape: [D, K]) { out in
            patches.withUnsafeBufferPointer { x in
                projectedGradient.withUnsafeBufferPointer { dy in
                    Scalar.gemm(transposeA: true, transposeB: false, m: D, n: K, k: B * count, alpha: 1, a: dy.baseAddress!, lda: D,
                                b: x.baseAddress!, ldb: K, beta: 0, c: out.baseAddress!, ldc: K)
                }
            }
        }
        return (weight, Tensor(shape: [D], scalars: bias), Tensor(shape: [D, n], scalars: position),
                hasClassToken ? Tensor(shape: [D], scalars: token) : nil)
    }
}
