// Products at most half a tile wide with A transposed (AVX-512 Float: n ≤ 8 on the 16×16 narrow tile;
// the regression-size D = 6 products such as dV_b = A_bᵀ·G_b and the weight gradients dYᵀ·U): two rows
// of C share one vector, so each step does half the FMAs of the one-vector tile with 6 of 16 lanes used.
// A's rows are adjacent in memory (A transposed), so one 64-bit load broadcasts a row pair; B is packed
// per depth block into a row-pair panel, each value twice:
//   panel[p·16 + 2j + h] = B[depthStart + p, j]  (j < n; 0 for j in n..<8), h = 0, 1
// The depth blocks are the tile's (KC), in order, beta applied at the first: every element of C sums
// the same terms in the same order and is stored by the same expression as on the one-vector tile, so
// the bits are those of the usual path, on any thread count (GemmShortcutTests).

/// C[m×n] ← alpha·Aᵀ·op(B) + beta·C for m a multiple of `kernel.rows` (at least
/// `SwiftGemmTuning.rowPairMinimumTiles` tiles, where packing pays), n ≤ `kernel.columns / 2`, A
/// stored transposed (`[k, m]`, row stride lda), with `rowPairs` (the kernel's `rowPairFunction`) on up
/// to `threads` threads; each thread takes a contiguous range of row tiles and packs its own B panels.
func rowPairProduct<Scalar: GemmScalar>(
    _ rowPairs: MicroKernel<Scalar>.RowPairFunction, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int, kernel: MicroKernel<Scalar>, threads: Int
) {
    let tileRows = kernel.rows, panelWidth = kernel.columns, depthBlock = kernel.depthBlock
    let tiles = m / tileRows, tasks = min(threads, tiles)
    let space = PackingSpace<Scalar>(count: tasks * depthBlock * panelWidth)
    defer { space.release() }
    forEachIndex(tasks, parallel: tasks > 1) { task in
        let firstTile = tiles * task / tasks, endTile = tiles * (task + 1) / tasks
        let panel = space.pointer + task * depthBlock * panelWidth
        // The padding lanes (columns n..<8) once: each depth block's packing writes only the 2n others.
        for p in 0..<min(depthBlock, k) {
            for lane in (2 * n)..<panelWidth { panel[p * panelWidth + lane] = 0 }
        }
        for depthStart in stride(from: 0, to: k, by: depthBlock) {
            let depth = min(depthBlock, k - depthStart)
            for p in 0..<depth {
                let row = panel + p * panelWidth
                if transposeB {
                    let source = b + depthStart + p
                    for j in 0..<n { (row[2 * j], row[2 * j + 1]) = (source[j * ldb], source[j * ldb]) }
                } else {
                    let source = b + (depthStart + p) * ldb
                    for j in 0..<n { (row[2 * j], row[2 * j + 1]) = (source[j], source[j]) }
                }
            }
            let stepBeta: Scalar = depthStart == 0 ? beta : 1
            for tile in firstTile..<endTile {
                let row = tile * tileRows
                rowPairs(n, depth, a + depthStart * lda + row, lda, UnsafePointer(panel), c + row * ldc, ldc, alpha, stepBeta)
            }
        }
    }
}
