// Products as wide as the kernel's `fullWidth.columns` (AVX-512: Float 65…80, Double 65…72; the ViT's
// attention scores T = Q·Kᵀ and their gradient ∂A = ∂Z·Vᵀ, 65 × 65 from 16, thousands per step), on
// one thread, within one depth block: the kernel's full-width function computes four rows (Double: two)
// at a time across all n columns, A read in place, B read in place when stored `[k, n]` and otherwise (Kᵀ from
// the keys `[n, k]`) copied once into an aligned scratch panel `[k, panelWidth]`. On the usual path
// the same product runs as 17 tile calls in two column passes, each A element broadcast twice and C
// written in 128-byte pieces on rows 260 bytes apart, through the driver's blocking bookkeeping: the
// ViT's scores product ran at 25% of peak inside the step that way, 43% this way (benchmarks/RESULTS.md).
// The sums are the 8×32 tile's (one FMA chain per element over p = 0, 1, …, then alpha, beta), so the
// bits are those of the packed path (GemmShortcutTests).

/// C[m×n] ← alpha·op(A)·op(B) + beta·C with the kernel's `fullWidth` function, for n in its `columns`
/// and k at most one depth block. Arguments as in `Gemm.gemm`.
func fullWidthProduct<Scalar: GemmScalar>(
    _ fullWidth: MicroKernel<Scalar>.FullWidth, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int
) {
    // A(r, p) at a[r·aRowStride + p·aDepthStride].
    let (aRowStride, aDepthStride) = transposeA ? (1, lda) : (lda, 1)
    guard transposeB else {
        fullWidth.function(m, n, k, a, aRowStride, aDepthStride, b, ldb, c, ldc, alpha, beta)
        return
    }
    // op(B)(p, j) = b[j·ldb + p]: row p of the panel holds column p of b (lanes past n are never read).
    let panelWidth = fullWidth.columns.upperBound
    let space = PackingSpace<Scalar>(count: k * panelWidth)
    defer { space.release() }
    let panel = space.pointer
    for j in 0..<n {
        let source = b + j * ldb
        for p in 0..<k { panel[p * panelWidth + j] = source[p] }
    }
    fullWidth.function(m, n, k, a, aRowStride, aDepthStride, UnsafePointer(panel), panelWidth, c, ldc, alpha, beta)
}
