// The pure-Swift GEMM driver: cache blocking, packing and threading around a SIMD micro-kernel.
//
// Loop nest (GotoBLAS/BLIS), for C[m×n] = alpha·op(A)[m×k]·op(B)[k×n] + beta·C:
//   for jc in columns of C, step NC:            packed B block (KC×NC) in L3
//     for pc in depth, step KC:                 C += A[:, pc] · B[pc, jc]  (beta applied at pc = 0)
//       pack B[pc, jc] into NR-wide panels      (parallel over panels)
//       pack A[:, pc] into MR-high panels       (parallel; skipped for narrow C, see below)
//       for each task (block of MR-panels × block of NR-panels), in parallel:
//         for jr: for ir: micro-kernel          (B micro-panel in L1, A block in L2)
// Reproducibility: tasks partition the output tiles, tile boundaries depend only on the shape, and
// every C element sums its k terms in the same order (pc blocks in order, p in order inside a block),
// so results are bitwise identical for any thread count.
// Deep products with A in place (k over one depth block, e.g. the weight gradients Aᵀ·B over 8,320
// rows) and enough column panels for the threads: each thread packs its own columns' B panels and
// runs every depth block for them, one wait per product instead of two per depth block.
// Narrow C (n ≤ `directAMaxColumns`, e.g. Transformer projections 8320×64·64×64): A is read in place
// by the micro-kernel (row stride lda) instead of being packed: each A panel is used by only a few
// B panels, so packing it would cost as much memory traffic as the multiplication itself.
// Short C (at most `directBMaxRowPanels` row panels, e.g. the per-head attention products
// 49×16·16×49 … 49×49·49×16, thousands per step): the panels of an untransposed B are read in place
// too (row stride ldb), since each is used by so few A panels that packing it costs about as much as
// the products — the ragged last one with masked loads (`loadPanelVector`); transposed B panels are
// still packed. The order of the terms is the same either way, so the results are bitwise those of
// the packed path.
// Ragged last row panel (m not a multiple of MR, e.g. 49 tokens = 6·8 + 1) and ragged last column
// panel (n not a multiple of NR, e.g. n = 6 or 21 in the regression-size attention): the kernel's edge
// function computes only those rows and columns, in place in C, reading A in place when A is direct
// (no packed A panel, no scratch tile; masked stores and loads of C, VectorIntrinsics.h); same order
// of terms, so again the same bits.
// Last column panel at most half a tile wide (65 = 32 + 32 + 1 columns of the attention scores): where
// the kernel has a wide edge function (AVX-512: 8 × 3 vectors), its full-height tiles run together
// with the panel before it, one set of A broadcasts and one call instead of a full tile plus a
// one-vector pass; same order of terms, same bits.
// 65 columns (the ViT's attention scores; the kernel's `fullWidth.columns`), on one thread: where the
// kernel has a full-width function (AVX-512: Float four rows, Double two rows at a time), across the
// whole width, B in place or (transposed) in one scratch panel, one call per product
// (SwiftGemmFullWidth.swift); a single depth block, so again the same bits.
// At most half a tile wide with A transposed (the regression-size D = 6 products), at least two row
// tiles high: where the kernel has a row-pair function (AVX-512 Float), two rows of C per vector
// (SwiftGemmRowPairs.swift), then the usual path for the last m mod MR rows; same order of terms,
// same bits.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CMeanFieldSupport

/// Tuning constants of the Swift GEMM driver, measured on the development machine (see
/// benchmarks/RESULTS.md).
enum SwiftGemmTuning {
    /// Below this many FLOPs (2mnk) a GEMM runs on the calling thread only (≈ 10 µs of work).
    static let parallelFlopThreshold = 1 << 20
    /// C at most this wide: A is not packed (read in place by the micro-kernel).
    static let directAMaxColumns = 256
    /// C at most this many row panels (MR rows each) high: untransposed B is not packed.
    static let directBMaxRowPanels = 16
    /// Packing jobs smaller than this many elements run serially.
    static let parallelPackingThreshold = 1 << 14
    /// Prefetch the next C tile's rows before each micro-kernel call when the depth is at least this
    /// (below it the prefetches cost more than the stalls they hide: 16 per 16×16 tile against
    /// 16·depth FMAs, e.g. depth 6 in the regression-size attention scores).
    static let prefetchCMinimumDepth = 32
    /// Row-pair products (SwiftGemmRowPairs.swift) need at least this many row tiles: packing B's row-pair
    /// panel costs about as many instructions per depth step (n loads, 2n stores) as one tile saves (8 FMAs
    /// and 8 broadcasts of 16), so one tile loses — e.g. dU_b = dTᵀ·Y_b, 21×6 from 336, whose packing
    /// was most of the driver's own time in the regression-size step (benchmarks/RESULTS.md).
    static let rowPairMinimumTiles = 2
}

/// How the output tiles of one (jc, pc) step are split into tasks.
struct TilePartition {
    let rowPanelsPerTask: Int
    let rowTasks: Int
    let columnPanelsPerTask: Int
    let columnTasks: Int
    var taskCount: Int { rowTasks * columnTasks }

    /// Splits rows into L2-sized blocks (≤ `rowBlockPanels`), into a multiple of `threads` equal
    /// blocks when threaded; splits columns too when there are fewer row blocks than threads.
    init(rowPanels: Int, columnPanels: Int, rowBlockPanels: Int, threads: Int) {
        var rowTasks = (rowPanels + rowBlockPanels - 1) / rowBlockPanels
        if threads > 1 { rowTasks = min(rowPanels, (rowTasks + threads - 1) / threads * threads) }
        let rowPanelsPerTask = (rowPanels + rowTasks - 1) / rowTasks
        rowTasks = (rowPanels + rowPanelsPerTask - 1) / rowPanelsPerTask
        var columnTasks = 1
        if threads > 1 && rowTasks < threads {
            columnTasks = min(columnPanels, (threads + rowTasks - 1) / rowTasks)
        }
        let columnPanelsPerTask = (columnPanels + columnTasks - 1) / columnTasks
        self.rowPanelsPerTask = rowPanelsPerTask
        self.rowTasks = rowTasks
        self.columnPanelsPerTask = columnPanelsPerTask
        self.columnTasks = (columnPanels + columnPanelsPerTask - 1) / columnPanelsPerTask
    }
}

/// C ← beta · C for an m×n matrix with row stride ldc; beta == 0 writes zeros without reading C.
func scaleMatrix<Scalar: BinaryFloatingPoint>(_ c: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int,
                                               ldc: Int, beta: Scalar) {
    if beta == 1 { return }
    for row in 0..<rows {
        let line = c + row * ldc
        if beta == 0 {
            for column in 0..<columns { line[column] = 0 }
        } else {
            for column in 0..<columns { line[column] *= beta }
        }
    }
}

/// The driver's shortcuts (all on by default; tests switch them off to compare bitwise with the plain
/// packed path).
struct GemmShortcuts: OptionSet {
    let rawValue: Int
    /// Read full-width untransposed B panels in place for short C.
    static let directB = GemmShortcuts(rawValue: 1)
    /// Compute the ragged last row panel with the kernel's edge function.
    static let edgeRows = GemmShortcuts(rawValue: 2)
    /// Compute the ragged last column panel with the kernel's edge function (partial stores).
    static let edgeColumns = GemmShortcuts(rawValue: 4)
    /// Compute the last two column panels in one wider tile when the last is at most half a tile wide
    /// (the kernel's `wideEdgeFunction`, where it has one).
    static let wideEdgeColumns = GemmShortcuts(rawValue: 8)
    /// Products at most half a tile wide with A transposed: two rows of C per vector (the kernel's
    /// `rowPairFunction`, where it has one; SwiftGemmRowPairs.swift).
    static let rowPairs = GemmShortcuts(rawValue: 16)
    /// Products as wide as the kernel's `fullWidth.columns` (65 columns), on one thread: a few rows at a
    /// time across the whole width (the kernel's `fullWidth`, where it has one; SwiftGemmFullWidth.swift).
    static let fullWidthRows = GemmShortcuts(rawValue: 32)
    static let all: GemmShortcuts = [.directB, .edgeRows, .edgeColumns, .wideEdgeColumns, .rowPairs, .fullWidthRows]
}

/// Room for `count` elements of packed operands from the thread's scratch pool (`mf_scratch_acquire`,
/// 64-byte aligned); give it back with `release()` (a `defer` right after acquiring).
struct PackingSpace<Scalar> {
    let pointer: UnsafeMutablePointer<Scalar>
    private let raw: UnsafeMutableRawPointer, capacity: UInt

    init(count: Int) {
        var capacity: UInt = 0
        let byteCount = count * MemoryLayout<Scalar>.stride + 64
        guard let raw = mf_scratch_acquire(UInt(byteCount), &capacity) else {
            fatalError("Gemm: cannot allocate \(byteCount) bytes of packing space")
        }
        (self.raw, self.capacity) = (raw, capacity)
        pointer = raw.bindMemory(to: Scalar.self, capacity: count)
    }

    func release() { mf_scratch_release(raw, capacity) }
}

/// Runs `body` for 0..<count on the pool when `parallel`, else serially on this thread.
@inline(__always)
func forEachIndex(_ count: Int, parallel: Bool, _ body: (Int) -> Void) {
    if parallel {
        Threading.parallelFor(count, body)
    } else {
        for index in 0..<count { body(index) }
    }
}

/// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C with the given micro-kernel on up to `threads`
/// threads. Arguments as in `Gemm.gemm`.
func swiftGemm<Scalar: GemmScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int,
    beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int,
    kernel: MicroKernel<Scalar>, threads: Int, shortcuts: GemmShortcuts = .all
) {
    guard m > 0, n > 0 else { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c, rows: m, columns: n, ldc: ldc, beta: beta)
        return
    }
    let tileRows = kernel.rows, tileColumns = kernel.columns
    let flops = 2 * m * n * k
    let threaded = threads > 1 && flops >= SwiftGemmTuning.parallelFlopThreshold && !Threading.isInsideParallelLoop
    if shortcuts.contains(.rowPairs), transposeA, 2 * n <= tileColumns, m >= SwiftGemmTuning.rowPairMinimumTiles * tileRows,
       let rowPairs = kernel.rowPairFunction {
        let pairedRows = m / tileRows * tileRows
        rowPairProduct(rowPairs, transposeB: transposeB, m: pairedRows, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc, kernel: kernel, threads: threaded ? threads : 1)
        // The last m mod MR rows: the usual path (the edge function), the same sums.
        swiftGemm(transposeA: true, transposeB: transposeB, m: m - pairedRows, n: n, k: k, alpha: alpha, a: a + pairedRows, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c + pairedRows * ldc, ldc: ldc, kernel: kernel, threads: threads, shortcuts: shortcuts)
        return
    }
    if shortcuts.contains(.fullWidthRows), !threaded, k <= kernel.depthBlock, let fullWidth = kernel.fullWidth,
       fullWidth.columns.contains(n) {
        fullWidthProduct(fullWidth, transposeA: transposeA, transposeB: transposeB,
                         m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let taskThreads = threaded ? threads : 1
    let directA = n <= SwiftGemmTuning.directAMaxColumns
    let rowPanels = (m + tileRows - 1) / tileRows
    let fullRowPanels = m / tileRows
    let edgeRows = shortcuts.contains(.edgeRows), edgeColumns = shortcuts.contains(.edgeColumns)
    let directB = shortcuts.contains(.directB) && !transposeB && rowPanels <= SwiftGemmTuning.directBMaxRowPanels
    // The wide tile reads both panels with one depth stride: both in place or both packed.
    let wideEdge = shortcuts.contains(.wideEdgeColumns) && (edgeColumns || !directB) ? kernel.wideEdgeFunction : nil
    // First column of a last panel at most half a tile wide, which the wide tile computes with the panel
    // before it (nil: no such panel, or no wide tile).
    let narrowLastColumn: Int? = wideEdge != nil && (1...tileColumns / 2).contains(n % tileColumns) ? n - n % tileColumns : nil
    /// Whether B's panel at `column` is read in place: direct B, full-width panels, and with the edge
    /// function's masked loads the ragged one too.
    func readsBInPlace(column: Int) -> Bool { directB && (n - column >= tileColumns || edgeColumns) }
    let maxDepth = min(kernel.depthBlock, k)
    let maxColumnPanels = (min(kernel.columnBlock, n) + tileColumns - 1) / tileColumns
    let packedBCount = maxColumnPanels * maxDepth * tileColumns
    let packedACount = (directA ? 1 : rowPanels) * maxDepth * tileRows

    /// The tiles (row panels `rowPanelRange` × column panels `columnPanelRange` of the column block at
    /// `columnStart`) of one depth block: B's panels packed at `packedB` from panel `firstPackedPanel`
    /// on (or read in place), A read in place or packed at `packedA`.
    @inline(__always)
    func computeTiles(columnStart: Int, depthStart: Int, depth: Int, rowPanelRange: Range<Int>, columnPanelRange: Range<Int>,
                      packedB: UnsafeMutablePointer<Scalar>, firstPackedPanel: Int, packedA: UnsafeMutablePointer<Scalar>) {
        let stepBeta: Scalar = depthStart == 0 ? beta : 1
        let prefetchC = depth >= SwiftGemmTuning.prefetchCMinimumDepth
        /// The B operand of a column panel: in place, or its packed panel.
        func bOperand(_ columnPanel: Int) -> (UnsafePointer<Scalar>, Int) {
            let column = columnStart + columnPanel * tileColumns
            if readsBInPlace(column: column) { return (b + depthStart * ldb + column, ldb) }
            return (UnsafePointer(packedB + (columnPanel - firstPackedPanel) * depth * tileColumns), tileColumns)
        }
        for columnPanel in columnPanelRange {
            let column = columnStart + columnPanel * tileColumns
            let width = min(tileColumns, n - column)
            let (bPanel, bDepthStride) = bOperand(columnPanel)
            // The narrow last panel, in this range with the one before it: the full-height tiles of both
            // run as one wide tile, at the one before.
            let nextIsNarrowLast = column + tileColumns == narrowLastColumn && columnPanel + 1 < columnPanelRange.upperBound
            let isMergedLast = column == narrowLastColumn && columnPanel > columnPanelRange.lowerBound
            for rowPanel in rowPanelRange {
                let row = rowPanel * tileRows
                let height = min(tileRows, m - row)
                if isMergedLast && height == tileRows { continue }  // done with the panel before
                // The A operand: in place (direct), or a packed panel.
                let aPanel: UnsafePointer<Scalar>, aRowStride: Int, aDepthStride: Int
                if directA && (rowPanel < fullRowPanels || edgeRows) {
                    if transposeA {
                        (aPanel, aRowStride, aDepthStride) = (a + depthStart * lda + row, 1, lda)
                    } else {
                        (aPanel, aRowStride, aDepthStride) = (a + row * lda + depthStart, lda, 1)
                    }
                } else {
                    let panelIndex = directA ? 0 : rowPanel
                    (aPanel, aRowStride, aDepthStride) =
                        (UnsafePointer(packedA + panelIndex * depth * tileRows), 1, tileRows)
                }
                let cTile = c + row * ldc + column
                if prefetchC && rowPanel + 1 < rowPanelRange.upperBound {
                    // Warm the next tile's rows of C while this one computes (their loads
                    // would otherwise stall the end of the next call when beta != 0).
                    let nextTile = cTile + tileRows * ldc
                    for r in 0..<tileRows {
                        mf_prefetch_for_write(nextTile + r * ldc)
                        mf_prefetch_for_write(nextTile + r * ldc + tileColumns - 1)
                    }
                }
                if nextIsNarrowLast && height == tileRows, let wideEdge {
                    wideEdge(n - column, depth, aPanel, aRowStride, aDepthStride, bPanel, bDepthStride, bOperand(columnPanel + 1).0,
                             cTile, ldc, alpha, stepBeta)
                } else if height == tileRows && width == tileColumns {
                    kernel.function(depth, aPanel, aRowStride, aDepthStride, bPanel, bDepthStride, cTile, ldc,
                                    alpha, stepBeta)
                } else if (edgeRows || height == tileRows) && (edgeColumns || width == tileColumns) {
                    kernel.edgeFunction(height, width, depth, aPanel, aRowStride, aDepthStride, bPanel,
                                        bDepthStride, cTile, ldc, alpha, stepBeta)
                } else {
                    // Ragged edge: full tile into a scratch tile, then copy the valid part.
                    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: tileRows * tileColumns) { tile in
                        let tilePointer = tile.baseAddress!
                        if edgeRows && height < tileRows {
                            kernel.edgeFunction(height, tileColumns, depth, aPanel, aRowStride, aDepthStride,
                                                bPanel, bDepthStride, tilePointer, tileColumns, 1, 0)
                        } else {
                            kernel.function(depth, aPanel, aRowStride, aDepthStride, bPanel, bDepthStride,
                                            tilePointer, tileColumns, 1, 0)
                        }
                        for r in 0..<height {
                            let source = tilePointer + r * tileColumns, destination = cTile + r * ldc
                            if stepBeta == 0 {
                                for j in 0..<width { destination[j] = alpha * source[j] }
                            } else {
                                for j in 0..<width { destination[j] = alpha * source[j] + stepBeta * destination[j] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Packs B[depthStart ..< +depth] of column panel `panel` (column `columnStart + panel·NR` on) into
    /// `panelPointer`, unless the kernel reads it in place (full-width panels, and with the edge
    /// function's masked loads the ragged one too).
    @inline(__always)
    func packB(panel: Int, columnStart: Int, depthStart: Int, depth: Int, into panelPointer: UnsafeMutablePointer<Scalar>) {
        let firstColumn = columnStart + panel * tileColumns
        if readsBInPlace(column: firstColumn) { return }
        packBPanel(b, ldb: ldb, transposed: transposeB, depthStart: depthStart, columnStart: firstColumn,
                   depth: depth, width: min(tileColumns, n - firstColumn), panelWidth: tileColumns, into: panelPointer)
    }

    /// With A in place, the ragged last row panel is packed only when the edge function may not read it.
    @inline(__always)
    func packRaggedDirectA(depthStart: Int, depth: Int, into panelPointer: UnsafeMutablePointer<Scalar>) {
        if fullRowPanels < rowPanels && !edgeRows {
            packAPanel(a, lda: lda, transposed: transposeA, rowStart: fullRowPanels * tileRows, depthStart: depthStart,
                       height: m - fullRowPanels * tileRows, depth: depth, panelHeight: tileRows, into: panelPointer)
        }
    }

    // Deep products with A in place and enough column panels for every thread (the weight gradients
    // Aᵀ·B summed over k = batch × tokens rows, e.g. 256×64 from 8,320): each thread takes its own
    // column panels and packs their B panels itself, through every depth block. The shared-B loop
    // below waits for all threads twice per depth block (66 times at k = 8,320); this one once. Each
    // element of C still sums the depth blocks in order, each block in order: the same bits.
    let totalColumnPanels = (n + tileColumns - 1) / tileColumns
    if threaded && directA && k > kernel.depthBlock && n <= kernel.columnBlock
        && (totalColumnPanels % taskThreads == 0 || totalColumnPanels >= 4 * taskThreads) {
        let panelsPerTask = (totalColumnPanels + taskThreads - 1) / taskThreads
        let taskStride = panelsPerTask * maxDepth * tileColumns + maxDepth * tileRows
        let space = PackingSpace<Scalar>(count: taskThreads * taskStride)
        defer { space.release() }
        let taskBuffers = space.pointer
        Threading.parallelFor(taskThreads) { task in
            let first = totalColumnPanels * task / taskThreads, end = totalColumnPanels * (task + 1) / taskThreads
            let ownB = taskBuffers + task * taskStride, ownA = ownB + panelsPerTask * maxDepth * tileColumns
            for depthStart in stride(from: 0, to: k, by: kernel.depthBlock) {
                let depth = min(kernel.depthBlock, k - depthStart)
                for panel in first..<end {
                    packB(panel: panel, columnStart: 0, depthStart: depthStart, depth: depth,
                          into: ownB + (panel - first) * depth * tileColumns)
                }
                packRaggedDirectA(depthStart: depthStart, depth: depth, into: ownA)
                computeTiles(columnStart: 0, depthStart: depthStart, depth: depth, rowPanelRange: 0..<rowPanels,
                             columnPanelRange: first..<end, packedB: ownB, firstPackedPanel: first, packedA: ownA)
            }
        }
        return
    }

    let space = PackingSpace<Scalar>(count: packedBCount + packedACount)
    defer { space.release() }
    let packedB = space.pointer
    let packedA = packedB + packedBCount

    for columnStart in stride(from: 0, to: n, by: kernel.columnBlock) {
        let blockColumns = min(kernel.columnBlock, n - columnStart)
        let columnPanels = (blockColumns + tileColumns - 1) / tileColumns
        for depthStart in stride(from: 0, to: k, by: kernel.depthBlock) {
            let depth = min(kernel.depthBlock, k - depthStart)

            // Pack B[depthStart ..< +depth, columnStart ..< +blockColumns] into NR-wide panels.
            let packBInParallel = threaded && blockColumns * depth >= SwiftGemmTuning.parallelPackingThreshold
            forEachIndex(columnPanels, parallel: packBInParallel) { panel in
                packB(panel: panel, columnStart: columnStart, depthStart: depthStart, depth: depth,
                      into: packedB + panel * depth * tileColumns)
            }
            // Pack A[:, depthStart ..< +depth] into MR-high panels (if direct: only a ragged last one,
            // and not even that one when the edge function reads it in place).
            if directA {
                packRaggedDirectA(depthStart: depthStart, depth: depth, into: packedA)
            } else {
                let packAInParallel = threaded && m * depth >= SwiftGemmTuning.parallelPackingThreshold
                forEachIndex(rowPanels, parallel: packAInParallel) { panel in
                    let firstRow = panel * tileRows
                    packAPanel(a, lda: lda, transposed: transposeA, rowStart: firstRow, depthStart: depthStart,
                               height: min(tileRows, m - firstRow), depth: depth, panelHeight: tileRows,
                               into: packedA + panel * depth * tileRows)
                }
            }

            let partition = TilePartition(rowPanels: rowPanels, columnPanels: columnPanels,
                                          rowBlockPanels: max(1, kernel.rowBlock / tileRows), threads: taskThreads)
            forEachIndex(partition.taskCount, parallel: threaded) { task in
                let rowTask = task % partition.rowTasks, columnTask = task / partition.rowTasks
                let firstRowPanel = rowTask * partition.rowPanelsPerTask
                let endRowPanel = min(rowPanels, firstRowPanel + partition.rowPanelsPerTask)
                let firstColumnPanel = columnTask * partition.columnPanelsPerTask
                let endColumnPanel = min(columnPanels, firstColumnPanel + partition.columnPanelsPerTask)
                computeTiles(columnStart: columnStart, depthStart: depthStart, depth: depth,
                             rowPanelRange: firstRowPanel..<endRowPanel, columnPanelRange: firstColumnPanel..<endColumnPanel,
                             packedB: packedB, firstPackedPanel: 0, packedA: packedA)
            }
        }
    }
}
