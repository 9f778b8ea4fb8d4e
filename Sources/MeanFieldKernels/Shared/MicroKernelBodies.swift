// Generic bodies of the GEMM micro-kernels. This one file is compiled into three modules
// (MeanFieldKernelsAVX512 with -march=x86-64-v4, MeanFieldKernelsAVX2 with -march=x86-64-v3, and
// MeanFieldKernels for the portable level) through symbolic links, so that each copy is specialized
// and vectorized for its instruction set. Every function is `@inline(__always)`: the concrete entry
// points in each module (`AVX512Kernels.swift`, `AVX2Kernels.swift`, `PortableKernels.swift`) fix
// the SIMD type, and this code is compiled only there.
//
// Operand layout seen by a micro-kernel computing one ROWS × (2·W) tile of C (W = V.scalarCount):
//   A: element (r, p) at a[r * aRowStride + p * aDepthStride]   (packed panel: aRowStride = 1,
//      aDepthStride = ROWS; unpacked row-major A: aRowStride = lda, aDepthStride = 1)
//   B: element (p, j) at b[p * bDepthStride + j], j in 0..<2W   (packed panel: bDepthStride = 2W;
//      unpacked row-major B: bDepthStride = ldb; the one-vector tile reads W columns)
//   C: row-major tile, element (r, j) at c[r * ldc + j]
//   C ← alpha · Σ_p A(r, p) B(p, j) + beta · C   (beta == 0: C's old contents are never read)
// The depth loop accumulates in the order p = 0, 1, …, depth-1, whatever the thread count.
import CMeanFieldSupport

@inline(__always)
func loadVector<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>) -> V {
    UnsafeRawPointer(pointer).loadUnaligned(as: V.self)
}

@inline(__always)
func storeVector<V: SIMD>(_ vector: V, _ pointer: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: V.self)
}

/// `pointer`, hidden from the optimizer's address arithmetic (`mf_opaque_pointer`; no instruction).
@inline(__always)
func opaque<Scalar>(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<Scalar> {
    mf_opaque_pointer(pointer).unsafelyUnwrapped.assumingMemoryBound(to: Scalar.self)
}

/// How a micro-kernel computes a · b + c. `FusedMultiplyAdd` compiles to one FMA instruction where
/// the target has FMA (AVX2, AVX-512, arm64); without it (generic x86-64) it would become a libm call
/// per element (~100× slower), so the portable x86-64 kernel uses `SeparateMultiplyAdd`.
protocol MultiplyAddStrategy {
    static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: BinaryFloatingPoint
}

/// a · b + c with one rounding (one FMA instruction).
enum FusedMultiplyAdd: MultiplyAddStrategy {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: BinaryFloatingPoint {
        c.addingProduct(a, b)
    }
}

/// a · b + c with two roundings (a multiply, then an add).
enum SeparateMultiplyAdd: MultiplyAddStrategy {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: BinaryFloatingPoint {
        a * b + c
    }
}

/// Writes one tile row of one vector: C ← alpha · acc + beta · C, not reading C when beta == 0.
/// Only the first `columns` lanes when `columns` < W (a ragged last column panel): the same two
/// products and one sum per element as the full store, so the same bits, and no element of C past
/// the product's last column is read or written.
@inline(__always)
func storeTileVector<V: SIMD>(
    _ c: UnsafeMutablePointer<V.Scalar>, _ accumulator: V, alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    if columns >= V.scalarCount {
        if beta == 0 {
            storeVector(accumulator * alpha, c)
        } else {
            storeVector(accumulator * alpha + loadVector(V.self, c) * beta, c)
        }
    } else if columns > 0 {
        if beta == 0 {
            storeFirstLanes(accumulator * alpha, c, count: columns)
        } else {
            storeFirstLanes(accumulator * alpha + loadFirstLanes(V.self, c, count: columns) * beta, c, count: columns)
        }
    }
}

/// One vector of a B panel row: all W lanes, or only the first `columns` (< W; none when ≤ 0) with
/// zeros after them, as a zero-padded packed panel would hold — so a ragged panel of an untransposed
/// B can be read in place (the masked load never touches memory past the product's last column).
@inline(__always)
func loadPanelVector<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>, columns: Int) -> V {
    if columns >= V.scalarCount { return loadVector(V.self, pointer) }
    if columns <= 0 { return V() }
    return loadFirstLanes(V.self, pointer, count: columns)
}

/// The first `count` (< W) lanes of a vector from memory, 0 in the others; lanes past `count` are not
/// read. One masked load for the vector types of the AVX2 and AVX-512 tiles (CMeanFieldSupport's
/// VectorIntrinsics.h), a scalar loop for others.
@inline(__always)
func loadFirstLanes<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>, count: Int) -> V {
    let raw = UnsafeRawPointer(pointer)
    if V.self == SIMD16<Float>.self {
        return unsafeBitCast(mf_load_first_f32x16(raw.assumingMemoryBound(to: Float.self), count), to: V.self)
    } else if V.self == SIMD8<Float>.self {
        return unsafeBitCast(mf_load_first_f32x8(raw.assumingMemoryBound(to: Float.self), count), to: V.self)
    } else if V.self == SIMD8<Double>.self {
        return unsafeBitCast(mf_load_first_f64x8(raw.assumingMemoryBound(to: Double.self), count), to: V.self)
    } else if V.self == SIMD4<Double>.self {
        return unsafeBitCast(mf_load_first_f64x4(raw.assumingMemoryBound(to: Double.self), count), to: V.self)
    }
    var vector = V()
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

/// Stores the first `count` (< W) lanes of `vector`; memory past them is not touched (see
/// `loadFirstLanes`).
@inline(__always)
func storeFirstLanes<V: SIMD>(_ vector: V, _ pointer: UnsafeMutablePointer<V.Scalar>, count: Int) {
    let raw = UnsafeMutableRawPointer(pointer)
    if V.self == SIMD16<Float>.self {
        mf_store_first_f32x16(raw.assumingMemoryBound(to: Float.self), unsafeBitCast(vector, to: SIMD16<Float>.self), count)
    } else if V.self == SIMD8<Float>.self {
        mf_store_first_f32x8(raw.assumingMemoryBound(to: Float.self), unsafeBitCast(vector, to: SIMD8<Float>.self), count)
    } else if V.self == SIMD8<Double>.self {
        mf_store_first_f64x8(raw.assumingMemoryBound(to: Double.self), unsafeBitCast(vector, to: SIMD8<Double>.self), count)
    } else if V.self == SIMD4<Double>.self {
        mf_store_first_f64x4(raw.assumingMemoryBound(to: Double.self), unsafeBitCast(vector, to: SIMD4<Double>.self), count)
    } else {
        for lane in 0..<count { pointer[lane] = vector[lane] }
    }
}

/// Writes one tile row (two vectors): C ← alpha · acc + beta · C, not reading C when beta == 0;
/// only the first `columns` columns when `columns` < 2W (see `storeTileVector`).
@inline(__always)
func storeTileRow<V: SIMD>(
    _ c: UnsafeMutablePointer<V.Scalar>, _ first: V, _ second: V, alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    storeTileVector(c, first, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + V.scalarCount, second, alpha: alpha, beta: beta, columns: columns - V.scalarCount)
}

/// 8 × 2W tile (AVX-512: 8×32 Float with SIMD16, 8×16 Double with SIMD8): 16 accumulators.
/// Rows of A are read through base pointers (`rows0`, `rows4`) at offsets 0, s, 2s, 3s
/// (s = aRowStride). Written as `a[r * aRowStride]`, the compiler walks one pointer through the rows
/// with dependent adds and carries that chain into the next step: as long as the step's FMAs here,
/// twice as long in the 16-row tile (which ran at half speed because of it). The two base pointers
/// are stepped through `opaque`: without it LLVM merged `rows4` back into `rows0 + 4s` and rebuilt
/// rows 4–7 each step with a chain of five lea/add (perf annotate of the ViT step, direct A).
@inline(__always)
func microKernel8Rows<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
    let s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride
    var rows0 = a, rows4 = a + 4 * aRowStride
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        let b1 = loadPanelVector(V.self, bPointer + V.scalarCount, columns: columns - V.scalarCount)
        let a0 = V(repeating: rows0[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01)
        let a1 = V(repeating: rows0[s1])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11)
        let a2 = V(repeating: rows0[s2])
        c20 = M.multiplyAdd(a2, b0, c20); c21 = M.multiplyAdd(a2, b1, c21)
        let a3 = V(repeating: rows0[s3])
        c30 = M.multiplyAdd(a3, b0, c30); c31 = M.multiplyAdd(a3, b1, c31)
        let a4 = V(repeating: rows4[0])
        c40 = M.multiplyAdd(a4, b0, c40); c41 = M.multiplyAdd(a4, b1, c41)
        let a5 = V(repeating: rows4[s1])
        c50 = M.multiplyAdd(a5, b0, c50); c51 = M.multiplyAdd(a5, b1, c51)
        let a6 = V(repeating: rows4[s2])
        c60 = M.multiplyAdd(a6, b0, c60); c61 = M.multiplyAdd(a6, b1, c61)
        let a7 = V(repeating: rows4[s3])
        c70 = M.multiplyAdd(a7, b0, c70); c71 = M.multiplyAdd(a7, b1, c71)
        rows0 = opaque(rows0 + aDepthStride); rows4 = opaque(rows4 + aDepthStride)
        bPointer += bDepthStride
    }
    storeTileRow(c + 0 * ldc, c00, c01, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 1 * ldc, c10, c11, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 2 * ldc, c20, c21, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 3 * ldc, c30, c31, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 4 * ldc, c40, c41, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 5 * ldc, c50, c51, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 6 * ldc, c60, c61, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 7 * ldc, c70, c71, alpha: alpha, beta: beta, columns: columns)
}

/// 8 × 3W tile for the last two column panels of a product whose last panel is at most W wide (65
/// columns = 32 + 33 on the 8×32 Float tile, 40 = 16 + 24 on the 8×16 Double tile): 24 accumulators,
/// the third vector's B read from `b2` (the next packed panel, or the next columns in place; same depth
/// stride) with only `columns − 2W` lanes. The same terms in the same order as the two tiles it replaces (so the
/// same bits), with one set of A broadcasts and one call instead of a two-vector tile plus an
/// overhead-bound one-vector pass (28% of a cache-resident 65×16·16×65 product). Needs 28 vector
/// registers: AVX-512 only.
@inline(__always)
func microKernel8RowsThreeVectors<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, b2: UnsafePointer<V.Scalar>,
    c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar, columns: Int
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V(), c20 = V(), c21 = V(), c22 = V()
    var c30 = V(), c31 = V(), c32 = V(), c40 = V(), c41 = V(), c42 = V(), c50 = V(), c51 = V(), c52 = V()
    var c60 = V(), c61 = V(), c62 = V(), c70 = V(), c71 = V(), c72 = V()
    let s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride
    let thirdColumns = columns - 2 * V.scalarCount
    var rows0 = a, rows4 = a + 4 * aRowStride  // two base pointers, as in `microKernel8Rows`
    var bPointer = b, b2Pointer = b2
    for _ in 0..<depth {
        let b0 = loadVector(V.self, bPointer), b1 = loadVector(V.self, bPointer + V.scalarCount)
        let bLast = loadPanelVector(V.self, b2Pointer, columns: thirdColumns)
        let a0 = V(repeating: rows0[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01); c02 = M.multiplyAdd(a0, bLast, c02)
        let a1 = V(repeating: rows0[s1])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11); c12 = M.multiplyAdd(a1, bLast, c12)
        let a2 = V(repeating: rows0[s2])
        c20 = M.multiplyAdd(a2, b0, c20); c21 = M.multiplyAdd(a2, b1, c21); c22 = M.multiplyAdd(a2, bLast, c22)
        let a3 = V(repeating: rows0[s3])
        c30 = M.multiplyAdd(a3, b0, c30); c31 = M.multiplyAdd(a3, b1, c31); c32 = M.multiplyAdd(a3, bLast, c32)
        let a4 = V(repeating: rows4[0])
        c40 = M.multiplyAdd(a4, b0, c40); c41 = M.multiplyAdd(a4, b1, c41); c42 = M.multiplyAdd(a4, bLast, c42)
        let a5 = V(repeating: rows4[s1])
        c50 = M.multiplyAdd(a5, b0, c50); c51 = M.multiplyAdd(a5, b1, c51); c52 = M.multiplyAdd(a5, bLast, c52)
        let a6 = V(repeating: rows4[s2])
        c60 = M.multiplyAdd(a6, b0, c60); c61 = M.multiplyAdd(a6, b1, c61); c62 = M.multiplyAdd(a6, bLast, c62)
        let a7 = V(repeating: rows4[s3])
        c70 = M.multiplyAdd(a7, b0, c70); c71 = M.multiplyAdd(a7, b1, c71); c72 = M.multiplyAdd(a7, bLast, c72)
        rows0 = opaque(rows0 + aDepthStride); rows4 = opaque(rows4 + aDepthStride)
        bPointer += bDepthStride; b2Pointer += bDepthStride
    }
    let third = 2 * V.scalarCount
    storeTileRow(c + 0 * ldc, c00, c01, alpha: alpha, beta: beta)
    storeTileVector(c + 0 * ldc + third, c02, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 1 * ldc, c10, c11, alpha: alpha, beta: beta)
    storeTileVector(c + 1 * ldc + third, c12, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 2 * ldc, c20, c21, alpha: alpha, beta: beta)
    storeTileVector(c + 2 * ldc + third, c22, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 3 * ldc, c30, c31, alpha: alpha, beta: beta)
    storeTileVector(c + 3 * ldc + third, c32, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 4 * ldc, c40, c41, alpha: alpha, beta: beta)
    storeTileVector(c + 4 * ldc + third, c42, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 5 * ldc, c50, c51, alpha: alpha, beta: beta)
    storeTileVector(c + 5 * ldc + third, c52, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 6 * ldc, c60, c61, alpha: alpha, beta: beta)
    storeTileVector(c + 6 * ldc + third, c62, alpha: alpha, beta: beta, columns: thirdColumns)
    storeTileRow(c + 7 * ldc, c70, c71, alpha: alpha, beta: beta)
    storeTileVector(c + 7 * ldc + third, c72, alpha: alpha, beta: beta, columns: thirdColumns)
}

/// 4 × 5W row tile (AVX-512 Float: 4 rows × 80 columns, 20 accumulators) for products 4W < n ≤ 5W
/// wide — the ViT's 65 × 65 attention scores — every column of four rows in one pass: one set of A
/// broadcasts for the whole width (the 8×32 and 8×48 tiles broadcast each A element twice, once per
/// column pass) and C written row after row, full width, the order the hardware prefetchers follow.
/// The fifth vector holds the last `columns − 4W` columns (masked loads and stores). Each element of C
/// is the same FMA chain over p = 0, 1, … and the same store expression as in the 8×32 tile: the same
/// bits. Needs 29 vector registers: AVX-512 only.
@inline(__always)
func microKernel4RowsFiveVectors<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c04 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V()
    var c20 = V(), c21 = V(), c22 = V(), c23 = V(), c24 = V(), c30 = V(), c31 = V(), c32 = V(), c33 = V(), c34 = V()
    let w = V.scalarCount, lastColumns = columns - 4 * V.scalarCount
    let s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride
    var rows0 = a, bPointer = b
    for _ in 0..<depth {
        let b0 = loadVector(V.self, bPointer), b1 = loadVector(V.self, bPointer + w)
        let b2 = loadVector(V.self, bPointer + 2 * w), b3 = loadVector(V.self, bPointer + 3 * w)
        let b4 = loadPanelVector(V.self, bPointer + 4 * w, columns: lastColumns)
        let a0 = V(repeating: rows0[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01); c02 = M.multiplyAdd(a0, b2, c02)
        c03 = M.multiplyAdd(a0, b3, c03); c04 = M.multiplyAdd(a0, b4, c04)
        let a1 = V(repeating: rows0[s1])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11); c12 = M.multiplyAdd(a1, b2, c12)
        c13 = M.multiplyAdd(a1, b3, c13); c14 = M.multiplyAdd(a1, b4, c14)
        let a2 = V(repeating: rows0[s2])
        c20 = M.multiplyAdd(a2, b0, c20); c21 = M.multiplyAdd(a2, b1, c21); c22 = M.multiplyAdd(a2, b2, c22)
        c23 = M.multiplyAdd(a2, b3, c23); c24 = M.multiplyAdd(a2, b4, c24)
        let a3 = V(repeating: rows0[s3])
        c30 = M.multiplyAdd(a3, b0, c30); c31 = M.multiplyAdd(a3, b1, c31); c32 = M.multiplyAdd(a3, b2, c32)
        c33 = M.multiplyAdd(a3, b3, c33); c34 = M.multiplyAdd(a3, b4, c34)
        rows0 = opaque(rows0 + aDepthStride)
        bPointer += bDepthStride
    }
    @inline(__always) func store(_ row: Int, _ v0: V, _ v1: V, _ v2: V, _ v3: V, _ v4: V) {
        let line = c + row * ldc
        storeTileRow(line, v0, v1, alpha: alpha, beta: beta)
        storeTileRow(line + 2 * w, v2, v3, alpha: alpha, beta: beta)
        storeTileVector(line + 4 * w, v4, alpha: alpha, beta: beta, columns: lastColumns)
    }
    store(0, c00, c01, c02, c03, c04); store(1, c10, c11, c12, c13, c14)
    store(2, c20, c21, c22, c23, c24); store(3, c30, c31, c32, c33, c34)
}

/// One row of the 4 × 5W tile (`microKernel4RowsFiveVectors`): the last m mod 4 rows, the same sums.
@inline(__always)
func microKernel1RowFiveVectors<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>,
    alpha: V.Scalar, beta: V.Scalar, columns: Int
) where V.Scalar: BinaryFloatingPoint {
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V()
    let w = V.scalarCount, lastColumns = columns - 4 * V.scalarCount
    var aPointer = a, bPointer = b
    for _ in 0..<depth {
        let a0 = V(repeating: aPointer[0])
        c0 = M.multiplyAdd(a0, loadVector(V.self, bPointer), c0)
        c1 = M.multiplyAdd(a0, loadVector(V.self, bPointer + w), c1)
        c2 = M.multiplyAdd(a0, loadVector(V.self, bPointer + 2 * w), c2)
        c3 = M.multiplyAdd(a0, loadVector(V.self, bPointer + 3 * w), c3)
        c4 = M.multiplyAdd(a0, loadPanelVector(V.self, bPointer + 4 * w, columns: lastColumns), c4)
        aPointer += aDepthStride
        bPointer += bDepthStride
    }
    storeTileRow(c, c0, c1, alpha: alpha, beta: beta)
    storeTileRow(c + 2 * w, c2, c3, alpha: alpha, beta: beta)
    storeTileVector(c + 4 * w, c4, alpha: alpha, beta: beta, columns: lastColumns)
}

/// 2 × 9W row tile (AVX-512 Double: 2 rows × 72 columns, 18 accumulators) for products 8W < n ≤ 9W
/// wide — the ViT's 65 × 65 attention scores in Float64 — the Double counterpart of
/// `microKernel4RowsFiveVectors` (nine vectors of 8 cover 65 columns; four rows would need 36
/// accumulators). The ninth vector holds the last `columns − 8W` columns. `rows` is 1 or 2. The same
/// FMA chain per element and store expression as the 8×16 tile: the same bits.
@inline(__always)
func microKernelRowsNineVectors<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, rows: Int, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c04 = V(), c05 = V(), c06 = V(), c07 = V(), c08 = V()
    var c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V(), c15 = V(), c16 = V(), c17 = V(), c18 = V()
    let w = V.scalarCount, lastColumns = columns - 8 * V.scalarCount
    let secondRow = rows > 1 ? aRowStride : 0  // one row: the second chain repeats the first, unstored
    var aPointer = a, bPointer = b
    for _ in 0..<depth {
        let b0 = loadVector(V.self, bPointer), b1 = loadVector(V.self, bPointer + w), b2 = loadVector(V.self, bPointer + 2 * w)
        let b3 = loadVector(V.self, bPointer + 3 * w), b4 = loadVector(V.self, bPointer + 4 * w), b5 = loadVector(V.self, bPointer + 5 * w)
        let b6 = loadVector(V.self, bPointer + 6 * w), b7 = loadVector(V.self, bPointer + 7 * w)
        let b8 = loadPanelVector(V.self, bPointer + 8 * w, columns: lastColumns)
        let a0 = V(repeating: aPointer[0]), a1 = V(repeating: aPointer[secondRow])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01); c02 = M.multiplyAdd(a0, b2, c02)
        c03 = M.multiplyAdd(a0, b3, c03); c04 = M.multiplyAdd(a0, b4, c04); c05 = M.multiplyAdd(a0, b5, c05)
        c06 = M.multiplyAdd(a0, b6, c06); c07 = M.multiplyAdd(a0, b7, c07); c08 = M.multiplyAdd(a0, b8, c08)
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11); c12 = M.multiplyAdd(a1, b2, c12)
        c13 = M.multiplyAdd(a1, b3, c13); c14 = M.multiplyAdd(a1, b4, c14); c15 = M.multiplyAdd(a1, b5, c15)
        c16 = M.multiplyAdd(a1, b6, c16); c17 = M.multiplyAdd(a1, b7, c17); c18 = M.multiplyAdd(a1, b8, c18)
        aPointer = opaque(aPointer + aDepthStride)
        bPointer += bDepthStride
    }
    @inline(__always) func store(_ line: UnsafeMutablePointer<V.Scalar>, _ v: (V, V, V, V, V, V, V, V, V)) {
        storeTileRow(line, v.0, v.1, alpha: alpha, beta: beta)
        storeTileRow(line + 2 * w, v.2, v.3, alpha: alpha, beta: beta)
        storeTileRow(line + 4 * w, v.4, v.5, alpha: alpha, beta: beta)
        storeTileRow(line + 6 * w, v.6, v.7, alpha: alpha, beta: beta)
        storeTileVector(line + 8 * w, v.8, alpha: alpha, beta: beta, columns: lastColumns)
    }
    store(c, (c00, c01, c02, c03, c04, c05, c06, c07, c08))
    if rows > 1 { store(c + ldc, (c10, c11, c12, c13, c14, c15, c16, c17, c18)) }
}

/// 16 × W tile, one vector per row (AVX-512 narrow Float: 16×16 with SIMD16): 16 accumulators, one
/// B load and 16 broadcasts per step. For products W columns wide, where a two-vector tile would
/// need half-width vectors (half the FLOPs per instruction). B's layout as above with W columns.
@inline(__always)
func microKernel16RowsOneVector<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V(), c15 = V()
    // Four base pointers, rows at offsets 0, s, 2s, 3s from each (see `microKernel8Rows`): with one
    // pointer the compiler carried 15 dependent adds from step to step, a 16-cycle critical path
    // against 8 cycles of FMAs (attn-v 118 → 161 GFLOP/s with this).
    let s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride
    var rows0 = a, rows4 = a + 4 * aRowStride, rows8 = a + 8 * aRowStride, rows12 = a + 12 * aRowStride
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        c0 = M.multiplyAdd(V(repeating: rows0[0]), b0, c0)
        c1 = M.multiplyAdd(V(repeating: rows0[s1]), b0, c1)
        c2 = M.multiplyAdd(V(repeating: rows0[s2]), b0, c2)
        c3 = M.multiplyAdd(V(repeating: rows0[s3]), b0, c3)
        c4 = M.multiplyAdd(V(repeating: rows4[0]), b0, c4)
        c5 = M.multiplyAdd(V(repeating: rows4[s1]), b0, c5)
        c6 = M.multiplyAdd(V(repeating: rows4[s2]), b0, c6)
        c7 = M.multiplyAdd(V(repeating: rows4[s3]), b0, c7)
        c8 = M.multiplyAdd(V(repeating: rows8[0]), b0, c8)
        c9 = M.multiplyAdd(V(repeating: rows8[s1]), b0, c9)
        c10 = M.multiplyAdd(V(repeating: rows8[s2]), b0, c10)
        c11 = M.multiplyAdd(V(repeating: rows8[s3]), b0, c11)
        c12 = M.multiplyAdd(V(repeating: rows12[0]), b0, c12)
        c13 = M.multiplyAdd(V(repeating: rows12[s1]), b0, c13)
        c14 = M.multiplyAdd(V(repeating: rows12[s2]), b0, c14)
        c15 = M.multiplyAdd(V(repeating: rows12[s3]), b0, c15)
        rows0 = opaque(rows0 + aDepthStride); rows4 = opaque(rows4 + aDepthStride)
        rows8 = opaque(rows8 + aDepthStride); rows12 = opaque(rows12 + aDepthStride)
        bPointer += bDepthStride
    }
    storeTileVector(c + 0 * ldc, c0, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 1 * ldc, c1, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 2 * ldc, c2, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 3 * ldc, c3, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 4 * ldc, c4, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 5 * ldc, c5, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 6 * ldc, c6, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 7 * ldc, c7, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 8 * ldc, c8, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 9 * ldc, c9, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 10 * ldc, c10, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 11 * ldc, c11, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 12 * ldc, c12, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 13 * ldc, c13, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 14 * ldc, c14, alpha: alpha, beta: beta, columns: columns)
    storeTileVector(c + 15 * ldc, c15, alpha: alpha, beta: beta, columns: columns)
}

/// 6 × 2W tile (AVX2: 6×16 Float with SIMD8, 6×8 Double with SIMD4; portable: SIMD4 / SIMD2):
/// 12 accumulators, which with 2 B vectors and 1 broadcast fits in 16 vector registers.
@inline(__always)
func microKernel6Rows<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let s1 = aRowStride, s2 = 2 * aRowStride
    var rows0 = a, rows3 = a + 3 * aRowStride
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        let b1 = loadPanelVector(V.self, bPointer + V.scalarCount, columns: columns - V.scalarCount)
        let a0 = V(repeating: rows0[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01)
        let a1 = V(repeating: rows0[s1])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11)
        let a2 = V(repeating: rows0[s2])
        c20 = M.multiplyAdd(a2, b0, c20); c21 = M.multiplyAdd(a2, b1, c21)
        let a3 = V(repeating: rows3[0])
        c30 = M.multiplyAdd(a3, b0, c30); c31 = M.multiplyAdd(a3, b1, c31)
        let a4 = V(repeating: rows3[s1])
        c40 = M.multiplyAdd(a4, b0, c40); c41 = M.multiplyAdd(a4, b1, c41)
        let a5 = V(repeating: rows3[s2])
        c50 = M.multiplyAdd(a5, b0, c50); c51 = M.multiplyAdd(a5, b1, c51)
        rows0 += aDepthStride; rows3 += aDepthStride
        bPointer += bDepthStride
    }
    storeTileRow(c + 0 * ldc, c00, c01, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 1 * ldc, c10, c11, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 2 * ldc, c20, c21, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 3 * ldc, c30, c31, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 4 * ldc, c40, c41, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 5 * ldc, c50, c51, alpha: alpha, beta: beta, columns: columns)
}

/// The edge function of an 8- or 6-row two-vector tile (`tileRows`, a constant at each call): full rows
/// more than one vector wide run the full tile's body with partial stores (A strides specialized as in
/// the full kernel); the rest `microKernelEdgeRows`.
@inline(__always)
func microKernelEdgeTile<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, tileRows: Int, rows: Int, columns: Int, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int,
    aDepthStride: Int, b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar
) where V.Scalar: BinaryFloatingPoint {
    if rows == tileRows && columns > V.scalarCount {
        withPackedStrideSpecialization(rows: tileRows, aRowStride: aRowStride, aDepthStride: aDepthStride) {
            if tileRows == 8 {
                microKernel8Rows(V.self, M.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1, b: b,
                                 bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            } else {
                microKernel6Rows(V.self, M.self, depth: depth, a: a, aRowStride: $0, aDepthStride: $1, b: b,
                                 bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            }
        }
    } else {
        microKernelEdgeRows(V.self, M.self, rows: rows, depth: depth, a: a, aRowStride: aRowStride, aDepthStride: aDepthStride,
                            b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
    }
}

/// A ragged tile: `rows` ≤ the full tile's rows (the last row panel of C) and `columns` ≤ 2W (the
/// last column panel; B's panel must still be readable 2W wide, as a zero-padded packed panel is).
/// Passes of 8, 4, 2 and 1 rows of two vectors (8 only below the 16-row one-vector tile), each
/// element summing its terms in the same order as in the full tile (so the bits are the same), C
/// written in place — only its `rows` × `columns` elements — and only `rows` rows of A read: no
/// scratch tile, and A may be read in place.
@inline(__always)
func microKernelEdgeRows<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, rows: Int, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    if columns <= V.scalarCount {
        // At most one vector wide (e.g. the last 16 of 336 columns on the 32-wide tile): one-vector passes.
        var row = 0
        while row < rows {
            microKernelUpTo8RowsOneVector(V.self, M.self, rows: min(8, rows - row), depth: depth, a: a + row * aRowStride,
                                          aRowStride: aRowStride, aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride,
                                          c: c + row * ldc, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
            row += 8
        }
        return
    }
    var row = 0
    if rows >= 8 {
        microKernel8Rows(V.self, M.self, depth: depth, a: a, aRowStride: aRowStride, aDepthStride: aDepthStride,
                         b: b, bDepthStride: bDepthStride, c: c, ldc: ldc, alpha: alpha, beta: beta, columns: columns)
        row = 8
    }
    while rows - row >= 4 {
        microKernel4Rows(V.self, M.self, depth: depth, a: a + row * aRowStride, aRowStride: aRowStride,
                         aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c + row * ldc, ldc: ldc,
                         alpha: alpha, beta: beta, columns: columns)
        row += 4
    }
    if rows - row >= 2 {
        microKernel2Rows(V.self, M.self, depth: depth, a: a + row * aRowStride, aRowStride: aRowStride,
                         aDepthStride: aDepthStride, b: b, bDepthStride: bDepthStride, c: c + row * ldc, ldc: ldc,
                         alpha: alpha, beta: beta, columns: columns)
        row += 2
    }
    if rows - row >= 1 {
        microKernel1Row(V.self, M.self, depth: depth, a: a + row * aRowStride, aDepthStride: aDepthStride,
                        b: b, bDepthStride: bDepthStride, c: c + row * ldc, alpha: alpha, beta: beta, columns: columns)
    }
}

/// Up to 8 rows × one vector, for `microKernelEdgeRows` when `columns` ≤ W: 8 accumulators; the rows
/// past `rows` re-read the last valid row of A (so no load leaves A) and are not stored.
@inline(__always)
func microKernelUpTo8RowsOneVector<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, rows: Int, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int
) where V.Scalar: BinaryFloatingPoint {
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
    let last = rows - 1
    let o1 = min(1, last) * aRowStride, o2 = min(2, last) * aRowStride, o3 = min(3, last) * aRowStride
    let o4 = min(4, last) * aRowStride, o5 = min(5, last) * aRowStride, o6 = min(6, last) * aRowStride
    let o7 = min(7, last) * aRowStride
    var aPointer = a
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        c0 = M.multiplyAdd(V(repeating: aPointer[0]), b0, c0)
        c1 = M.multiplyAdd(V(repeating: aPointer[o1]), b0, c1)
        c2 = M.multiplyAdd(V(repeating: aPointer[o2]), b0, c2)
        c3 = M.multiplyAdd(V(repeating: aPointer[o3]), b0, c3)
        c4 = M.multiplyAdd(V(repeating: aPointer[o4]), b0, c4)
        c5 = M.multiplyAdd(V(repeating: aPointer[o5]), b0, c5)
        c6 = M.multiplyAdd(V(repeating: aPointer[o6]), b0, c6)
        c7 = M.multiplyAdd(V(repeating: aPointer[o7]), b0, c7)
        aPointer += aDepthStride
        bPointer += bDepthStride
    }
    storeTileVector(c, c0, alpha: alpha, beta: beta, columns: columns)
    if rows > 1 { storeTileVector(c + ldc, c1, alpha: alpha, beta: beta, columns: columns) }
    if rows > 2 { storeTileVector(c + 2 * ldc, c2, alpha: alpha, beta: beta, columns: columns) }
    if rows > 3 { storeTileVector(c + 3 * ldc, c3, alpha: alpha, beta: beta, columns: columns) }
    if rows > 4 { storeTileVector(c + 4 * ldc, c4, alpha: alpha, beta: beta, columns: columns) }
    if rows > 5 { storeTileVector(c + 5 * ldc, c5, alpha: alpha, beta: beta, columns: columns) }
    if rows > 6 { storeTileVector(c + 6 * ldc, c6, alpha: alpha, beta: beta, columns: columns) }
    if rows > 7 { storeTileVector(c + 7 * ldc, c7, alpha: alpha, beta: beta, columns: columns) }
}

/// 4 × 2W pass of `microKernelEdgeRows`.
@inline(__always)
func microKernel4Rows<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    let s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride
    var rows0 = a
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        let b1 = loadPanelVector(V.self, bPointer + V.scalarCount, columns: columns - V.scalarCount)
        let a0 = V(repeating: rows0[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01)
        let a1 = V(repeating: rows0[s1])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11)
        let a2 = V(repeating: rows0[s2])
        c20 = M.multiplyAdd(a2, b0, c20); c21 = M.multiplyAdd(a2, b1, c21)
        let a3 = V(repeating: rows0[s3])
        c30 = M.multiplyAdd(a3, b0, c30); c31 = M.multiplyAdd(a3, b1, c31)
        rows0 += aDepthStride
        bPointer += bDepthStride
    }
    storeTileRow(c + 0 * ldc, c00, c01, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 1 * ldc, c10, c11, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 2 * ldc, c20, c21, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + 3 * ldc, c30, c31, alpha: alpha, beta: beta, columns: columns)
}

/// 2 × 2W pass of `microKernelEdgeRows`.
@inline(__always)
func microKernel2Rows<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aRowStride: Int, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V()
    var aPointer = a
    var bPointer = b
    for _ in 0..<depth {
        let b0 = loadPanelVector(V.self, bPointer, columns: columns)
        let b1 = loadPanelVector(V.self, bPointer + V.scalarCount, columns: columns - V.scalarCount)
        let a0 = V(repeating: aPointer[0])
        c00 = M.multiplyAdd(a0, b0, c00); c01 = M.multiplyAdd(a0, b1, c01)
        let a1 = V(repeating: aPointer[aRowStride])
        c10 = M.multiplyAdd(a1, b0, c10); c11 = M.multiplyAdd(a1, b1, c11)
        aPointer += aDepthStride
        bPointer += bDepthStride
    }
    storeTileRow(c, c00, c01, alpha: alpha, beta: beta, columns: columns)
    storeTileRow(c + ldc, c10, c11, alpha: alpha, beta: beta, columns: columns)
}

/// 1 × 2W pass of `microKernelEdgeRows`.
@inline(__always)
func microKernel1Row<V: SIMD, M: MultiplyAddStrategy>(
    _: V.Type, _: M.Type, depth: Int, a: UnsafePointer<V.Scalar>, aDepthStride: Int,
    b: UnsafePointer<V.Scalar>, bDepthStride: Int, c: UnsafeMutablePointer<V.Scalar>,
    alpha: V.Scalar, beta: V.Scalar, columns: Int = .max
) where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V()
    var aPointer = a
    var bPointer = b
    for _ in 0..<depth {
        let a0 = V(repeating: aPointer[0])
        c00 = M.multiplyAdd(a0, loadPanelVector(V.self, bPointer, columns: columns), c00)
        c01 = M.multiplyAdd(a0, loadPanelVector(V.self, bPointer + V.scalarCount, columns: columns - V.scalarCount), c01)
        aPointer += aDepthStride
        bPointer += bDepthStride
    }
    storeTileRow(c, c00, c01, alpha: alpha, beta: beta, columns: columns)
}

/// Calls `kernel` with constant strides in the common packed-A case (aRowStride = 1,
/// aDepthStride = rows), so that the compiler folds the row offsets into the load instructions.
@inline(__always)
func withPackedStrideSpecialization(
    rows: Int, aRowStride: Int, aDepthStride: Int, _ kernel: (_ aRowStride: Int, _ aDepthStride: Int) -> Void
) {
    if aRowStride == 1 && aDepthStride == rows {
        if rows == 8 { kernel(1, 8) } else if rows == 6 { kernel(1, 6) } else if rows == 16 { kernel(1, 16) } else { kernel(1, rows) }
    } else {
        kernel(aRowStride, aDepthStride)
    }
}
