// Element-wise and row-wise kernels of the fused Transformer engine (softmax forward/backward, layer
// norm forward/backward, bias + ReLU, ReLU mask, column sums, head-major gathers). Like
// MicroKernelBodies.swift, this one file is compiled into three modules through symbolic links
// (MeanFieldKernelsAVX512, MeanFieldKernelsAVX2 and the portable copy in MeanFieldKernels), so each
// copy is vectorized for its instruction set. Each module fixes the vector types with three
// typealiases (`ElementwiseFloatVector`, `ElementwiseFloatBits`, `ElementwiseDoubleVector`); the
// run-time choice is `Elementwise` in MeanFieldKernels/ElementwiseDispatch.swift.
//
// Reproducibility: every function works on the rows (or columns) it is given and reduces each row
// in an order fixed by the row length and the module's vector width only, so callers that split
// work by rows or columns get the same bits on any thread count.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CMeanFieldSupport

@inline(__always)
private func loadPartial<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>, count: Int, padding: V.Scalar) -> V {
    var vector = V(repeating: padding)
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

@inline(__always)
private func storePartial<V: SIMD>(_ vector: V, _ pointer: UnsafeMutablePointer<V.Scalar>, count: Int) {
    for lane in 0..<count { pointer[lane] = vector[lane] }
}

@inline(__always)
private func load<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>) -> V {
    UnsafeRawPointer(pointer).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: SIMD>(_ vector: V, _ pointer: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: V.self)
}

// Lane masks and min/max go through the concrete SIMD types (the module's typealiases): the
// generic `SIMD` versions of comparisons, `replace(with:where:)` and `pointwiseMax` compile to lane
// loops (measured 15% of a ViT step), while the concrete types' operations are single instructions.

/// max(a, b) lane-wise (b where b > a).
@inline(__always)
private func vectorMax(_ a: ElementwiseFloatVector, _ b: ElementwiseFloatVector) -> ElementwiseFloatVector {
    var result = a
    result.replace(with: b, where: b .> a)
    return result
}
@inline(__always)
private func vectorMax(_ a: ElementwiseDoubleVector, _ b: ElementwiseDoubleVector) -> ElementwiseDoubleVector {
    var result = a
    result.replace(with: b, where: b .> a)
    return result
}
// Horizontal reductions (softmax, layer norm) as halving trees (log₂ width dependent steps) instead of a
// lane-by-lane chain (width − 1 dependent steps: on 49-token rows the chains cost as much as the
// vector work). Overloads for every width the three module copies use.
@inline(__always) private func laneMax(_ v: SIMD2<Float>) -> Float { Swift.max(v[0], v[1]) }
@inline(__always) private func laneMax(_ v: SIMD4<Float>) -> Float {
    var m = v.lowHalf; let h = v.highHalf; m.replace(with: h, where: h .> m); return laneMax(m)
}
@inline(__always) private func laneMax(_ v: SIMD8<Float>) -> Float {
    var m = v.lowHalf; let h = v.highHalf; m.replace(with: h, where: h .> m); return laneMax(m)
}
@inline(__always) private func laneMax(_ v: SIMD16<Float>) -> Float {
    var m = v.lowHalf; let h = v.highHalf; m.replace(with: h, where: h .> m); return laneMax(m)
}
@inline(__always) private func laneMax(_ v: SIMD2<Double>) -> Double { Swift.max(v[0], v[1]) }
@inline(__always) private func laneMax(_ v: SIMD4<Double>) -> Double {
    var m = v.lowHalf; let h = v.highHalf; m.replace(with: h, where: h .> m); return laneMax(m)
}
@inline(__always) private func laneMax(_ v: SIMD8<Double>) -> Double {
    var m = v.lowHalf; let h = v.highHalf; m.replace(with: h, where: h .> m); return laneMax(m)
}
@inline(__always) private func laneSum(_ v: SIMD2<Float>) -> Float { v[0] + v[1] }
@inline(__always) private func laneSum(_ v: SIMD4<Float>) -> Float { laneSum(v.lowHalf + v.highHalf) }
@inline(__always) private func laneSum(_ v: SIMD8<Float>) -> Float { laneSum(v.lowHalf + v.highHalf) }
@inline(__always) private func laneSum(_ v: SIMD16<Float>) -> Float { laneSum(v.lowHalf + v.highHalf) }
@inline(__always) private func laneSum(_ v: SIMD2<Double>) -> Double { v[0] + v[1] }
@inline(__always) private func laneSum(_ v: SIMD4<Double>) -> Double { laneSum(v.lowHalf + v.highHalf) }
@inline(__always) private func laneSum(_ v: SIMD8<Double>) -> Double { laneSum(v.lowHalf + v.highHalf) }

/// `value` where `x > 0`, else 0 (NaN → 0).
@inline(__always)
private func vectorWherePositive(_ value: ElementwiseFloatVector, _ x: ElementwiseFloatVector) -> ElementwiseFloatVector {
    var result = value
    result.replace(with: 0, where: .!(x .> 0))
    return result
}
@inline(__always)
private func vectorWherePositive(_ value: ElementwiseDoubleVector, _ x: ElementwiseDoubleVector) -> ElementwiseDoubleVector {
    var result = value
    result.replace(with: 0, where: .!(x .> 0))
    return result
}

/// e^x lane-wise for `Float`: the same formula as the fused engine's scalar `floatExp` (Cody–Waite
/// split, degree-7 Taylor polynomial, x clamped to [−87, 88]). `@_transparent`: with
/// `@inline(__always)` alone the optimizer still called it out of line from the softmax loops
/// (spilling the loop's vectors around each call).
@_transparent
private func fastExp(_ input: ElementwiseFloatVector) -> ElementwiseFloatVector {
    typealias V = ElementwiseFloatVector
    typealias I = ElementwiseFloatBits
    var x = input
    x.replace(with: -87, where: x .< -87)
    x.replace(with: 88, where: x .> 88)
    let shifter = V(repeating: 12_582_912)  // 1.5·2^23: adding it rounds to an integer in the low bits
    let shifted = x * 1.442_695_04 + shifter
    let k = shifted - shifter
    let r = (x - k * 0.693_145_751_953_125) - k * 1.428_606_765_330_187_045e-06
    var p = V(repeating: 1.0 / 5040)
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let exponentBits = (unsafeBitCast(shifted, to: I.self) &- unsafeBitCast(shifter, to: I.self)) &<< 23
    return unsafeBitCast(unsafeBitCast(p, to: I.self) &+ exponentBits, to: V.self)
}

/// e^x lane-wise for `Double`, to within 2 ulp (the float64 softmax and the Sinkhorn soft-min,
/// SoftMinBodies.swift; libm's scalar exp had taken 17% of a float64 ViT step): x = k·ln 2 + r with
/// |r| ≤ ½ ln 2 (Cody–Waite, ln 2 in two parts as in fdlibm), e^r by its degree-13 Taylor polynomial
/// (truncation below 4·10⁻¹⁸ relative), 2^k added to the exponent bits. Lanes below −708 give exactly
/// 0 (masked scores and the soft-min's masked lanes hold −∞), lanes above 709 are clamped there, NaN
/// stays NaN. Checked against libm in DoubleSoftmaxTests.
@_transparent
func fastExp(_ input: ElementwiseDoubleVector) -> ElementwiseDoubleVector {
    typealias V = ElementwiseDoubleVector
    typealias I = ElementwiseDoubleBits
    var x = input
    x.replace(with: -708, where: x .< -708)
    x.replace(with: 709, where: x .> 709)
    let shifter = V(repeating: 6_755_399_441_055_744)  // 1.5·2^52: adding it rounds to an integer in the low bits
    let shifted = x * 1.442_695_040_888_963_4 + shifter
    let k = shifted - shifter
    let r = (x - k * 6.931_471_803_691_238_164_90e-01) - k * 1.908_214_929_270_587_700_02e-10
    var p = V(repeating: 1.0 / 6_227_020_800)       // 1/13!
    p = V(repeating: 1.0 / 479_001_600).addingProduct(p, r)
    p = V(repeating: 1.0 / 39_916_800).addingProduct(p, r)
    p = V(repeating: 1.0 / 3_628_800).addingProduct(p, r)
    p = V(repeating: 1.0 / 362_880).addingProduct(p, r)
    p = V(repeating: 1.0 / 40_320).addingProduct(p, r)
    p = V(repeating: 1.0 / 5_040).addingProduct(p, r)
    p = V(repeating: 1.0 / 720).addingProduct(p, r)
    p = V(repeating: 1.0 / 120).addingProduct(p, r)
    p = V(repeating: 1.0 / 24).addingProduct(p, r)
    p = V(repeating: 1.0 / 6).addingProduct(p, r)
    p = V(repeating: 0.5).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)
    let exponentBits = (unsafeBitCast(shifted, to: I.self) &- unsafeBitCast(shifter, to: I.self)) &<< 52
    var result = unsafeBitCast(unsafeBitCast(p, to: I.self) &+ exponentBits, to: V.self)
    result.replace(with: 0, where: input .< -708)
    result.replace(with: input, where: input .!= input)
    return result
}

// MARK: Generic bodies

/// Lanes `width − tail ..< width` set to 1, the others 0: the lanes of an overlapping last vector
/// (loaded at `row + n − width`) that the full vectors did not cover.
@inline(__always)
private func tailMask<V: SIMD>(_: V.Type, tail: Int) -> V where V.Scalar: BinaryFloatingPoint {
    var mask = V()
    for lane in (V.scalarCount - tail)..<V.scalarCount { mask[lane] = 1 }
    return mask
}

/// How a row of `n` values splits into vectors: `full` values as whole vectors, then a ragged end of
/// `tail` values, read as one overlapping vector loaded at `n − width` (`overlap`, when the row holds
/// at least one whole vector; `mask` keeps only its lanes the whole vectors did not cover) or else
/// zero-padded. One declaration for the softmax bodies, forward and backward, per row and per block.
@inline(__always)
private func raggedEnd<V: SIMD>(_: V.Type, n: Int) -> (full: Int, tail: Int, overlap: Bool, mask: V) where V.Scalar: BinaryFloatingPoint {
    let full = n / V.scalarCount * V.scalarCount, tail = n - full
    let overlap = tail > 0 && n >= V.scalarCount
    return (full, tail, overlap, overlap ? tailMask(V.self, tail: tail) : V())
}

/// Row-wise softmax in place on `rows` `[rowCount, n]`. A ragged row end is handled with one
/// overlapping vector (loaded before any store; its lanes already covered are masked out of the
/// sum and rewritten with identical values), so short rows such as n = 21 stay vectorized.
@inline(__always)
private func softmaxRowsBody<V: SIMD>(_: V.Type, _ rows: UnsafeMutablePointer<V.Scalar>, rowCount: Int, n: Int,
                                      maximum maxOp: (V, V) -> V, exponential: (V) -> V,
                                      laneMaximum: (V) -> V.Scalar, laneTotal: (V) -> V.Scalar) where V.Scalar: BinaryFloatingPoint {
    let width = V.scalarCount
    let (full, tail, overlap, mask) = raggedEnd(V.self, n: n)
    for q in 0..<rowCount {
        let row = rows + q * n
        var maxima = V(repeating: -V.Scalar.infinity)
        var i = 0
        while i < full { maxima = maxOp(maxima, load(V.self, row + i)); i += width }
        let last = overlap ? load(V.self, row + n - width) : V()
        if overlap {
            maxima = maxOp(maxima, last)
        } else if tail > 0 {
            maxima = maxOp(maxima, loadPartial(V.self, row + full, count: tail, padding: -V.Scalar.infinity))
        }
        var maximum = laneMaximum(maxima)
        if !maximum.isFinite { maximum = 0 }
        let shift = V(repeating: maximum)
        var sums = V()
        i = 0
        while i < full {
            let e = exponential(load(V.self, row + i) - shift)
            store(e, row + i)
            sums += e
            i += width
        }
        var lastExp = V()
        if overlap {
            lastExp = exponential(last - shift)
            sums += lastExp * mask
        } else if tail > 0 {
            var e = exponential(loadPartial(V.self, row + full, count: tail, padding: maximum) - shift)
            for lane in tail..<width { e[lane] = 0 }
            storePartial(e, row + full, count: tail)
            sums += e
        }
        let scale = V(repeating: 1 / laneTotal(sums))
        i = 0
        while i < full { store(load(V.self, row + i) * scale, row + i); i += width }
        if overlap {
            store(lastExp * scale, row + n - width)
        } else if tail > 0 {
            storePartial(loadPartial(V.self, row + full, count: tail, padding: 0) * scale, row + full, count: tail)
        }
    }
}

/// Whether `softmaxRowBlocksBody` pays: rows shorter than 8 vectors, where the per-row path's padded
/// or overlapping last vector is a large share of the exponentials, and a one-instruction permute
/// (`permuteLanes`) for the 8- and 16-lane Float vectors of AVX2/AVX-512.
@inline(__always)
private func rowBlocksPay(tokens n: Int, rowCount: Int) -> Bool {
    typealias V = ElementwiseFloatVector
    return (V.self == SIMD16<Float>.self || V.self == SIMD8<Float>.self) && n > 0 && n < 8 * V.scalarCount
        && rowCount >= V.scalarCount
}

/// result[i] = table[indices[i]] (see VectorIntrinsics.h).
@inline(__always)
private func permuteLanes(_ table: ElementwiseFloatVector, _ indices: ElementwiseFloatBits) -> ElementwiseFloatVector {
    typealias V = ElementwiseFloatVector
    if V.self == SIMD16<Float>.self {
        let picked = mf_permute_f32x16(unsafeBitCast(table, to: SIMD16<Float>.self), unsafeBitCast(indices, to: SIMD16<Int32>.self))
        return unsafeBitCast(picked, to: V.self)
    } else if V.self == SIMD8<Float>.self {
        let picked = mf_permute_f32x8(unsafeBitCast(table, to: SIMD8<Float>.self), unsafeBitCast(indices, to: SIMD8<Int32>.self))
        return unsafeBitCast(picked, to: V.self)
    }
    var result = V()
    for lane in 0..<V.scalarCount { result[lane] = table[Int(indices[lane])] }
    return result
}

/// Lane r = the maximum (`maximum`) or the sum of `partials[r]`'s lanes for the W rows of a block, each
/// lane with the bits of `laneMax` / `laneSum` of that one vector (VectorIntrinsics.h,
/// `mf_reduce_rows_f32x16`): one transposing tree for the block instead of a tree and a lane insert
/// per row.
@inline(__always)
private func reduceRows(_ partials: UnsafePointer<ElementwiseFloatVector>, maximum: Bool) -> ElementwiseFloatVector {
    typealias V = ElementwiseFloatVector
    if V.self == SIMD16<Float>.self {
        let rows = UnsafeRawPointer(partials).assumingMemoryBound(to: Float.self)
        return unsafeBitCast(mf_reduce_rows_f32x16(rows, maximum ? 1 : 0), to: V.self)
    } else if V.self == SIMD8<Float>.self {
        let rows = UnsafeRawPointer(partials).assumingMemoryBound(to: Float.self)
        return unsafeBitCast(mf_reduce_rows_f32x8(rows, maximum ? 1 : 0), to: V.self)
    }
    var result = V()
    for r in 0..<V.scalarCount { result[r] = maximum ? laneMax(partials[r]) : laneSum(partials[r]) }
    return result
}

/// Calls `body` with the scratch of a W-rows-at-a-time pass: room for the block's W partial vectors
/// (`reduceRows`), and a table of n index vectors: lane l of entry v is the row (0..<W) of a block's
/// element v·W + l (a block is W rows of n values), for picking each lane's row value with one permute.
/// Computed once per call in Float: (f + ½)/n is a row index below W = 16 plus a fraction at least
/// ½/n ≥ 1/256 away from an integer, and the roundings move it by less than 16·2⁻²², so rounding it
/// gives ⌊f/n⌋. The rounding to an integer is fastExp's: adding 1.5·2²³ leaves it in the low bits (a
/// conversion instruction would do, but Swift's SIMD float-to-integer conversion runs lane by lane
/// through generic code).
@inline(__always)
private func withBlockScratch(tokens n: Int,
                              _ body: (_ rowOfLanes: UnsafePointer<ElementwiseFloatBits>, _ partials: UnsafeMutablePointer<ElementwiseFloatVector>) -> Void) {
    typealias V = ElementwiseFloatVector
    typealias I = ElementwiseFloatBits
    var laneCenters = V()
    for lane in 0..<V.scalarCount { laneCenters[lane] = Float(lane) + 0.5 }
    let inverseTokens = 1 / Float(n), shifter = V(repeating: 12_582_912)
    withUnsafeTemporaryAllocation(of: I.self, capacity: n) { table in
        for v in 0..<n {
            let rounded = (V(repeating: Float(v * V.scalarCount)) + laneCenters) * inverseTokens - 0.5 + shifter
            table[v] = unsafeBitCast(rounded, to: I.self) &- unsafeBitCast(shifter, to: I.self)
        }
        withUnsafeTemporaryAllocation(of: V.self, capacity: V.scalarCount) { partials in
            body(UnsafePointer(table.baseAddress!), partials.baseAddress!)
        }
    }
}

/// Row-wise softmax of `blockCount · W` `Float` rows of n < 8W, W rows at a time (W = the vector
/// width), with the bits of `softmaxRowsBody`. A block is W·n contiguous values, exactly n vectors;
/// the exponentials and the final scaling run over those n vectors, each lane shifted (and scaled) by
/// its own row's value picked from a vector of the W rows' maxima (and inverse sums) with one permute.
/// The per-row path computes ⌈n/W⌉ vectors of exponentials per row, n/W per row here: on the
/// regression-size 21-token rows 2 against 1.31 (the second vector of a row is 5/16 full). Row
/// maxima and sums are read per row exactly as in `softmaxRowsBody` (same vectors, same masks, same
/// order) and reduced for all W rows at once in the same tree order (`reduceRows`), and each
/// element's exponential and product are lane-wise, so every bit is the same.
/// Written for this module's vector type and calling the vector functions directly: passed as
/// closures (as to `softmaxRowsBody`) they stayed out-of-line calls.
private func softmaxRowBlocksBody(_ rows: UnsafeMutablePointer<Float>, blockCount: Int, n: Int) {
    typealias V = ElementwiseFloatVector
    let width = V.scalarCount
    let (full, tail, overlap, mask) = raggedEnd(V.self, n: n)
    withBlockScratch(tokens: n) { rowOfLanes, partials in
        for block in 0..<blockCount {
            let base = rows + block * width * n
            for r in 0..<width {
                let row = base + r * n
                var maxima = V(repeating: -Float.infinity)
                var i = 0
                while i < full { maxima = vectorMax(maxima, load(V.self, row + i)); i += width }
                if overlap {
                    maxima = vectorMax(maxima, load(V.self, row + n - width))
                } else if tail > 0 {
                    maxima = vectorMax(maxima, loadPartial(V.self, row + full, count: tail, padding: -Float.infinity))
                }
                partials[r] = maxima
            }
            // A row whose maximum is not finite (all −∞, or +∞) is shifted by 0, as in the per-row path.
            var shifts = reduceRows(partials, maximum: true)
            shifts.replace(with: 0, where: .!((shifts .> -Float.infinity) .& (shifts .< Float.infinity)))
            for v in 0..<n {
                let pointer = base + v * width
                store(fastExp(load(V.self, pointer) - permuteLanes(shifts, rowOfLanes[v])), pointer)
            }
            for r in 0..<width {
                let row = base + r * n
                var sums = V()
                var i = 0
                while i < full { sums += load(V.self, row + i); i += width }
                if overlap {
                    sums += load(V.self, row + n - width) * mask
                } else if tail > 0 {
                    sums += loadPartial(V.self, row + full, count: tail, padding: 0)
                }
                partials[r] = sums
            }
            let scales = 1 / reduceRows(partials, maximum: false)
            for v in 0..<n {
                let pointer = base + v * width
                store(load(V.self, pointer) * permuteLanes(scales, rowOfLanes[v]), pointer)
            }
        }
    }
}

/// The softmax backward (`softmaxBackwardBody`) of `blockCount · W` `Float` rows of n < 8W, W rows at
/// a time as `softmaxRowBlocksBody`: each row's Σ dW ⊙ W from the same vectors as the per-row path,
/// the W totals reduced at once (`reduceRows`), then dS over the block's n vectors with each lane's
/// total picked by one permute; the same bits as the per-row path.
private func softmaxBackwardRowBlocksBody(weights: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                          blockCount: Int, n: Int, scale: Float) {
    typealias V = ElementwiseFloatVector
    let width = V.scalarCount
    let (full, tail, overlap, mask) = raggedEnd(V.self, n: n)
    let scales = V(repeating: scale)
    withBlockScratch(tokens: n) { rowOfLanes, partials in
        for block in 0..<blockCount {
            let blockWeights = weights + block * width * n, blockGradient = gradient + block * width * n
            for r in 0..<width {
                partials[r] = rowProductPartials(V.self, blockWeights + r * n, blockGradient + r * n, n: n, full: full, tail: tail,
                                                 overlap: overlap, mask: mask)
            }
            let totals = reduceRows(partials, maximum: false)
            for v in 0..<n {
                let offset = v * width
                let total = permuteLanes(totals, rowOfLanes[v])
                store(scales * load(V.self, blockWeights + offset) * (load(V.self, blockGradient + offset) - total), blockGradient + offset)
            }
        }
    }
}

/// One row's Σ dW ⊙ W as vector partial sums: the `full` values as whole vectors in order, then the
/// ragged end of `tail` values as one overlapping vector (`overlap`; its lanes already covered masked
/// out by `mask`) or a zero-padded one — the facts of `raggedEnd`, which its callers hold.
@inline(__always)
private func rowProductPartials<V: SIMD>(_: V.Type, _ w: UnsafePointer<V.Scalar>, _ g: UnsafePointer<V.Scalar>, n: Int,
                                         full: Int, tail: Int, overlap: Bool, mask: V) -> V where V.Scalar: BinaryFloatingPoint {
    let width = V.scalarCount
    var totals = V()
    var i = 0
    while i < full { totals += load(V.self, g + i) * load(V.self, w + i); i += width }
    if overlap {
        totals += load(V.self, g + n - width) * load(V.self, w + n - width) * mask
    } else if tail > 0 {
        totals += loadPartial(V.self, g + full, count: tail, padding: 0) * loadPartial(V.self, w + full, count: tail, padding: 0)
    }
    return totals
}

/// dS = scale·W ⊙ (dW − Σ_keys dW ⊙ W) per row, in place on `gradient` (holding dW); ragged row
/// ends as in `softmaxRowsBody`; `laneTotal` reduces a row's partial sums.
@inline(__always)
private func softmaxBackwardBody<V: SIMD>(_: V.Type, weights: UnsafePointer<V.Scalar>, gradient: UnsafeMutablePointer<V.Scalar>,
                                          rowCount: Int, n: Int, scale: V.Scalar, laneTotal: (V) -> V.Scalar)
where V.Scalar: BinaryFloatingPoint {
    let width = V.scalarCount
    let (full, tail, overlap, mask) = raggedEnd(V.self, n: n)
    let scales = V(repeating: scale)
    for q in 0..<rowCount {
        let w = weights + q * n, g = gradient + q * n
        let lastG = overlap ? load(V.self, g + n - width) : V(), lastW = overlap ? load(V.self, w + n - width) : V()
        let total = V(repeating: laneTotal(rowProductPartials(V.self, w, g, n: n, full: full, tail: tail, overlap: overlap, mask: mask)))
        var i = 0
        while i < full {
            store(scales * load(V.self, w + i) * (load(V.self, g + i) - total), g + i)
            i += width
        }
        if overlap {
            store(scales * lastW * (lastG - total), g + n - width)
        } else if tail > 0 {
            let result = scales * loadPartial(V.self, w + full, count: tail, padding: 0)
                * (loadPartial(V.self, g + full, count: tail, padding: 0) - total)
            storePartial(result, g + full, count: tail)
        }
    }
}

/// Σ row[0..<count] as vector partial sums (fixed order) plus a padded tail.
@inline(__always)
private func rowSum<V: SIMD>(_: V.Type, _ row: UnsafePointer<V.Scalar>, count: Int) -> V.Scalar where V.Scalar: BinaryFloatingPoint {
    let width = V.scalarCount
    let full = count / width * width
    var sums = V()
    var i = 0
    while i < full { sums += load(V.self, row + i); i += width }
    if full < count { sums += loadPartial(V.self, row + full, count: count - full, padding: 0) }
    return sums.sum()
}

/// y = (x − μ)/√(σ² + ε) per row of `[rows, width]`, ε = 1e-5; stores 1/√(σ² + ε) per row.
@inline(__always)
private func layerNormForwardBody<V: SIMD>(_: V.Type, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>,
                                           inverseStd: UnsafeMutablePointer<V.Scalar>, rows: Int, width: Int)
where V.Scalar: BinaryFloatingPoint {
    let lanes = V.scalarCount
    let full = width / lanes * lanes, tail = width - full
    for row in 0..<rows {
        let xs = x + row * width, ys = y + row * width
        let mean = rowSum(V.self, xs, count: width) / V.Scalar(width)
        let means = V(repeating: mean)
        var squares = V()
        var i = 0
        while i < full {
            let d = load(V.self, xs + i) - means
            squares += d * d
            i += lanes
        }
        if tail > 0 {
            let d = loadPartial(V.self, xs + full, count: tail, padding: mean) - means
            squares += d * d
        }
        let variance = squares.sum() / V.Scalar(width)
        let scale = 1 / (variance + V.Scalar(1e-5)).squareRoot()
        inverseStd[row] = scale
        let scales = V(repeating: scale)
        i = 0
        while i < full { store((load(V.self, xs + i) - means) * scales, ys + i); i += lanes }
        if tail > 0 { storePartial((loadPartial(V.self, xs + full, count: tail, padding: 0) - means) * scales, ys + full, count: tail) }
    }
}

/// dx = residual + (1/σ)·(dy − mean(dy) − y·mean(dy ⊙ y)) per row; `dx` may alias `residual`.
@inline(__always)
private func layerNormBackwardBody<V: SIMD>(_: V.Type, y: UnsafePointer<V.Scalar>, inverseStd: UnsafePointer<V.Scalar>,
                                            dy: UnsafePointer<V.Scalar>, residual: UnsafePointer<V.Scalar>,
                                            dx: UnsafeMutablePointer<V.Scalar>, rows: Int, width: Int)
where V.Scalar: BinaryFloatingPoint {
    let lanes = V.scalarCount
    let full = width / lanes * lanes, tail = width - full
    for row in 0..<rows {
        let base = row * width
        var upstream = V(), products = V()
        var i = 0
        while i < full {
            let g = load(V.self, dy + base + i)
            upstream += g
            products += g * load(V.self, y + base + i)
            i += lanes
        }
        if tail > 0 {
            let g = loadPartial(V.self, dy + base + full, count: tail, padding: 0)
            upstream += g
            products += g * loadPartial(V.self, y + base + full, count: tail, padding: 0)
        }
        let meanUpstream = V(repeating: upstream.sum() / V.Scalar(width))
        let meanProduct = V(repeating: products.sum() / V.Scalar(width))
        let scale = V(repeating: inverseStd[row])
        i = 0
        while i < full {
            let value = load(V.self, residual + base + i)
                + scale * (load(V.self, dy + base + i) - meanUpstream - load(V.self, y + base + i) * meanProduct)
            store(value, dx + base + i)
            i += lanes
        }
        if tail > 0 {
            let value = loadPartial(V.self, residual + base + full, count: tail, padding: 0)
                + scale * (loadPartial(V.self, dy + base + full, count: tail, padding: 0) - meanUpstream
                           - loadPartial(V.self, y + base + full, count: tail, padding: 0) * meanProduct)
            storePartial(value, dx + base + full, count: tail)
        }
    }
}

/// values ← max(values + bias, 0) in place (bias per column, NaN → 0), for `[rows, units]`.
@inline(__always)
private func biasReluBody<V: SIMD>(_: V.Type, _ values: UnsafeMutablePointer<V.Scalar>, bias: UnsafePointer<V.Scalar>,
                                   rows: Int, units: Int, wherePositive: (V, V) -> V) where V.Scalar: BinaryFloatingPoint {
    let lanes = V.scalarCount
    let full = units / lanes * lanes
    for row in 0..<rows {
        let v = values + row * units
        var u = 0
        while u < full {
            let x = load(V.self, v + u) + load(V.self, bias + u)
            store(wherePositive(x, x), v + u)
            u += lanes
        }
        while u < units {
            let x = v[u] + bias[u]
            v[u] = x > 0 ? x : 0
            u += 1
        }
    }
}

/// g ← (x > 0 ? g : 0).
@inline(__always)
private func reluMaskBody<V: SIMD>(_: V.Type, _ g: UnsafeMutablePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, count: Int,
                                   wherePositive: (V, V) -> V)
where V.Scalar: BinaryFloatingPoint {
    let lanes = V.scalarCount
    var i = 0
    while i + lanes <= count {
        store(wherePositive(load(V.self, g + i), load(V.self, x + i)), g + i)
        i += lanes
    }
    while i < count {
        if !(x[i] > 0) { g[i] = 0 }
        i += 1
    }
}

/// sums[u] = Σ_row matrix[row·stride + u] for u in 0..<count, rows added in order.
@inline(__always)
private func columnSumsBody<V: SIMD>(_: V.Type, _ matrix: UnsafePointer<V.Scalar>, rows: Int, stride: Int, count: Int,
                                     into sums: UnsafeMutablePointer<V.Scalar>) where V.Scalar: BinaryFloatingPoint {
    let lanes = V.scalarCount
    var u = 0
    while u + 4 * lanes <= count {
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        for row in 0..<rows {
            let line = matrix + row * stride + u
            s0 += load(V.self, line); s1 += load(V.self, line + lanes)
            s2 += load(V.self, line + 2 * lanes); s3 += load(V.self, line + 3 * lanes)
        }
        store(s0, sums + u); store(s1, sums + u + lanes); store(s2, sums + u + 2 * lanes); store(s3, sums + u + 3 * lanes)
        u += 4 * lanes
    }
    while u + lanes <= count {
        var s = V()
        for row in 0..<rows { s += load(V.self, matrix + row * stride + u) }
        store(s, sums + u)
        u += lanes
    }
    while u < count {
        var s: V.Scalar = 0
        for row in 0..<rows { s += matrix[row * stride + u] }
        sums[u] = s
        u += 1
    }
}

/// Token-major `[n, heads·width]` ↔ head-major `[heads, n, width]` (plain copies).
@inline(__always)
private func headMajorBody<V: SIMD>(_: V.Type, _ source: UnsafePointer<V.Scalar>, _ target: UnsafeMutablePointer<V.Scalar>,
                                    tokens n: Int, heads: Int, width: Int, toHeadMajor: Bool) where V.Scalar: BinaryFloatingPoint {
    let rowWidth = heads * width
    let full = width / V.scalarCount * V.scalarCount, rest = width - full
    for i in 0..<n {
        for j in 0..<heads {
            let tokenMajor = i * rowWidth + j * width, headMajor = (j * n + i) * width
            let from = source + (toHeadMajor ? tokenMajor : headMajor)
            let to = target + (toHeadMajor ? headMajor : tokenMajor)
            // A run of `width` values (6 at the regression size): whole vectors, then one masked load
            // and store (VectorIntrinsics.h) instead of a scalar loop.
            var p = 0
            while p < full { store(load(V.self, from + p), to + p); p += V.scalarCount }
            if rest > 0 { storeFirstLanes(loadFirstLanes(V.self, from + full, count: rest), to + full, count: rest) }
        }
    }
}

// MARK: Concrete entry points (one copy per module, vector types from the module's typealiases)

/// Row-wise kernels of the fused engine for this module's instruction set (layouts in each body's
/// comment above). Only call the AVX2 / AVX-512 copies after a CPUID check.
public enum ElementwiseKernels {
    public static func softmaxRows(_ rows: UnsafeMutablePointer<Float>, rowCount: Int, tokens n: Int) {
        typealias V = ElementwiseFloatVector
        var done = 0
        if rowBlocksPay(tokens: n, rowCount: rowCount) {
            let blocks = rowCount / V.scalarCount
            softmaxRowBlocksBody(rows, blockCount: blocks, n: n)
            done = blocks * V.scalarCount
        }
        softmaxRowsBody(V.self, rows + done * n, rowCount: rowCount - done, n: n, maximum: vectorMax, exponential: fastExp,
                        laneMaximum: laneMax, laneTotal: laneSum)
    }
    public static func softmaxRows(_ rows: UnsafeMutablePointer<Double>, rowCount: Int, tokens n: Int) {
        softmaxRowsBody(ElementwiseDoubleVector.self, rows, rowCount: rowCount, n: n, maximum: vectorMax, exponential: fastExp,
                        laneMaximum: laneMax, laneTotal: laneSum)
    }
    /// Float rows: W at a time where blocks pay (`softmaxBackwardRowBlocksBody`), the rest one by one,
    /// each row's total by the halving tree (`laneSum`) on both paths, so the same bits either way.
    public static func softmaxBackward(weights: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, rowCount: Int,
                                       tokens n: Int, scale: Float) {
        typealias V = ElementwiseFloatVector
        var done = 0
        if rowBlocksPay(tokens: n, rowCount: rowCount) {
            let blocks = rowCount / V.scalarCount
            softmaxBackwardRowBlocksBody(weights: weights, gradient: gradient, blockCount: blocks, n: n, scale: scale)
            done = blocks * V.scalarCount
        }
        softmaxBackwardBody(V.self, weights: weights + done * n, gradient: gradient + done * n, rowCount: rowCount - done, n: n,
                            scale: scale, laneTotal: laneSum)
    }
    /// Double rows one by one, each row's total summed lane after lane (`SIMD.sum()`).
    public static func softmaxBackward(weights: UnsafePointer<Double>, gradient: UnsafeMutablePointer<Double>, rowCount: Int,
                                       tokens n: Int, scale: Double) {
        softmaxBackwardBody(ElementwiseDoubleVector.self, weights: weights, gradient: gradient, rowCount: rowCount, n: n, scale: scale,
                            laneTotal: { $0.sum() })
    }
    public static func layerNormForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                        inverseStd: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        layerNormForwardBody(ElementwiseFloatVector.self, x, y, inverseStd: inverseStd, rows: rows, width: width)
    }
    public static func layerNormForward(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>,
                                        inverseStd: UnsafeMutablePointer<Double>, rows: Int, width: Int) {
        layerNormForwardBody(ElementwiseDoubleVector.self, x, y, inverseStd: inverseStd, rows: rows, width: width)
    }
    public static func layerNormBackward(y: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         residual: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        layerNormBackwardBody(ElementwiseFloatVector.self, y: y, inverseStd: inverseStd, dy: dy, residual: residual, dx: dx,
                              rows: rows, width: width)
    }
    public static func layerNormBackward(y: UnsafePointer<Double>, inverseStd: UnsafePointer<Double>, dy: UnsafePointer<Double>,
                                         residual: UnsafePointer<Double>, dx: UnsafeMutablePointer<Double>, rows: Int, width: Int) {
        layerNormBackwardBody(ElementwiseDoubleVector.self, y: y, inverseStd: inverseStd, dy: dy, residual: residual, dx: dx,
                              rows: rows, width: width)
    }
    public static func biasRelu(_ values: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, units: Int) {
        biasReluBody(ElementwiseFloatVector.self, values, bias: bias, rows: rows, units: units, wherePositive: vectorWherePositive)
    }
    public static func biasRelu(_ values: UnsafeMutablePointer<Double>, bias: UnsafePointer<Double>, rows: Int, units: Int) {
        biasReluBody(ElementwiseDoubleVector.self, values, bias: bias, rows: rows, units: units, wherePositive: vectorWherePositive)
    }
    public static func reluMask(_ g: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        reluMaskBody(ElementwiseFloatVector.self, g, x, count: count, wherePositive: vectorWherePositive)
    }
    public static func reluMask(_ g: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, count: Int) {
        reluMaskBody(ElementwiseDoubleVector.self, g, x, count: count, wherePositive: vectorWherePositive)
    }
    public static func columnSums(_ matrix: UnsafePointer<Float>, rows: Int, stride: Int, count: Int, into sums: UnsafeMutablePointer<Float>) {
        columnSumsBody(ElementwiseFloatVector.self, matrix, rows: rows, stride: stride, count: count, into: sums)
    }
    public static func columnSums(_ matrix: UnsafePointer<Double>, rows: Int, stride: Int, count: Int, into sums: UnsafeMutablePointer<Double>) {
        columnSumsBody(ElementwiseDoubleVector.self, matrix, rows: rows, stride: stride, count: count, into: sums)
    }
    public static func headMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, tokens: Int, heads: Int,
                                 width: Int, toHeadMajor: Bool) {
        headMajorBody(ElementwiseFloatVector.self, source, target, tokens: tokens, heads: heads, width: width, toHeadMajor: toHeadMajor)
    }
    public static func headMajor(_ source: UnsafePointer<Double>, _ target: UnsafeMutablePointer<Double>, tokens: Int, heads: Int,
                                 width: Int, toHeadMajor: Bool) {
        headMajorBody(ElementwiseDoubleVector.self, source, target, tokens: tokens, heads: heads, width: width, toHeadMajor: toHeadMajor)
    }
}
