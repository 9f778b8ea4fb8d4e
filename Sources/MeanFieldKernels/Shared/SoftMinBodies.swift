// The streaming soft-min of the Sinkhorn solver between two point clouds (docs/theory.md §1.5; the
// metric is MeanField/Metrics/SinkhornDivergence.swift): squared distances are computed tile by
// tile from the points and reduced at once, so the n×m cost matrix is never stored. Like
// ElementwiseBodies.swift, this one file is compiled into three modules through symbolic links
// (MeanFieldKernelsAVX512, MeanFieldKernelsAVX2 and the portable copy in MeanFieldKernels), each with
// its own `ElementwiseDoubleVector` width; the run-time choice is `StreamingSoftMin` in
// MeanFieldKernels/StreamingSoftMin.swift.
//
// Reproducibility: each output row is reduced in an order fixed by the column count, the dimension
// and the module's vector width only, so callers that split rows among threads get the same bits on
// any thread count.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always)
private func loadVector(_ pointer: UnsafePointer<Double>) -> ElementwiseDoubleVector {
    UnsafeRawPointer(pointer).loadUnaligned(as: ElementwiseDoubleVector.self)
}

@inline(__always)
private func storeVector(_ vector: ElementwiseDoubleVector, _ pointer: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: ElementwiseDoubleVector.self)
}

@inline(__always)
private func largestLane(_ v: ElementwiseDoubleVector) -> Double {
    var largest = v[0]
    for lane in 1..<ElementwiseDoubleVector.scalarCount where v[lane] > largest { largest = v[lane] }
    return largest
}

@inline(__always)
private func laneTotal(_ v: ElementwiseDoubleVector) -> Double {
    var total = v[0]
    for lane in 1..<ElementwiseDoubleVector.scalarCount { total += v[lane] }
    return total
}

/// Rows handled together: each panel of columns is loaded once for four rows.
private let softMinRowTile = 4
/// Columns whose exponents are buffered per row before their sum (4 rows × 512 × 8 bytes = 16 KiB, in L1).
private let softMinBlockColumns = 512

/// `out_i = −ε·(logWeight + log Σ_j exp((g_j − |x_i − y_j|²)/ε))` for the rows `i` in
/// `rowStart..<rowEnd`:
/// - `x`: `[n, p]` row-major;
/// - `panels`: the second cloud in panels of W = vector width columns, panel q holding
///   `y[qW + l, k]` at `q·p·W + k·W + l` (lanes past the last column hold anything finite);
/// - `potential`: g padded to the panels' width with −∞ (so padding lanes add exactly 0).
///
/// Each distance is summed over k in order from the differences `x_ik − y_jk` (exactly symmetric in
/// x and y, exactly 0 for equal points). The log-sum-exp is streamed: per block of columns the row's
/// exponents are buffered, the running maximum raised if the block's is larger (the running sum
/// rescaled by one exp), and the block's exp(z − max) summed lane-wise.
@inline(__always)
private func softMinRowsBody(x: UnsafePointer<Double>, rowStart: Int, rowEnd: Int, dimension p: Int,
                             panels: UnsafePointer<Double>, columns m: Int, potential: UnsafePointer<Double>,
                             logWeight: Double, epsilon: Double, out: UnsafeMutablePointer<Double>) {
    typealias V = ElementwiseDoubleVector
    let width = V.scalarCount
    let panelCount = (m + width - 1) / width
    let blockPanels = softMinBlockColumns / width
    let inverse = V(repeating: 1 / epsilon)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: softMinRowTile * softMinBlockColumns) { scratch in
        let z = scratch.baseAddress!
        var row = rowStart
        while row < rowEnd {
            // Four rows at a time; a short last tile repeats its last row (results discarded).
            let x0 = x + row * p
            let x1 = x + Swift.min(row + 1, rowEnd - 1) * p
            let x2 = x + Swift.min(row + 2, rowEnd - 1) * p
            let x3 = x + Swift.min(row + 3, rowEnd - 1) * p
            var running = (-Double.infinity, -Double.infinity, -Double.infinity, -Double.infinity)
            var sums = (V(), V(), V(), V())
            var blockStart = 0
            while blockStart < panelCount {
                let blockEnd = Swift.min(panelCount, blockStart + blockPanels)
                var maxima = (V(repeating: -.infinity), V(repeating: -.infinity), V(repeating: -.infinity), V(repeating: -.infinity))
                for q in blockStart..<blockEnd {
                    let panel = panels + q * p * width
                    var d0 = V(), d1 = V(), d2 = V(), d3 = V()
                    for k in 0..<p {
                        let y = loadVector(panel + k * width)
                        let e0 = V(repeating: x0[k]) - y, e1 = V(repeating: x1[k]) - y
                        let e2 = V(repeating: x2[k]) - y, e3 = V(repeating: x3[k]) - y
                        d0 = d0.addingProduct(e0, e0); d1 = d1.addingProduct(e1, e1)
                        d2 = d2.addingProduct(e2, e2); d3 = d3.addingProduct(e3, e3)
                    }
                    let g = loadVector(potential + q * width)
                    let z0 = (g - d0) * inverse, z1 = (g - d1) * inverse, z2 = (g - d2) * inverse, z3 = (g - d3) * inverse
                    let offset = (q - blockStart) * width
                    storeVector(z0, z + offset)
                    storeVector(z1, z + softMinBlockColumns + offset)
                    storeVector(z2, z + 2 * softMinBlockColumns + offset)
                    storeVector(z3, z + 3 * softMinBlockColumns + offset)
                    maxima.0 = pointwiseMax(maxima.0, z0); maxima.1 = pointwiseMax(maxima.1, z1)
                    maxima.2 = pointwiseMax(maxima.2, z2); maxima.3 = pointwiseMax(maxima.3, z3)
                }
                let count = (blockEnd - blockStart) * width
                accumulate(z, count: count, blockMaximum: largestLane(maxima.0), running: &running.0, sum: &sums.0)
                accumulate(z + softMinBlockColumns, count: count, blockMaximum: largestLane(maxima.1), running: &running.1, sum: &sums.1)
                accumulate(z + 2 * softMinBlockColumns, count: count, blockMaximum: largestLane(maxima.2), running: &running.2, sum: &sums.2)
                accumulate(z + 3 * softMinBlockColumns, count: count, blockMaximum: largestLane(maxima.3), running: &running.3, sum: &sums.3)
                blockStart = blockEnd
            }
            func finish(_ tile: Int, _ maximum: Double, _ sum: V) {
                if row + tile < rowEnd { out[row + tile] = -epsilon * (logWeight + maximum + log(laneTotal(sum))) }
            }
            finish(0, running.0, sums.0); finish(1, running.1, sums.1)
            finish(2, running.2, sums.2); finish(3, running.3, sums.3)
            row += softMinRowTile
        }
    }
}

@inline(__always)
private func pointwiseMax(_ a: ElementwiseDoubleVector, _ b: ElementwiseDoubleVector) -> ElementwiseDoubleVector {
    a.replacing(with: b, where: b .> a)
}

/// Adds `exp(z − max)` over one row's buffered block to `sum`, raising the running maximum to the
/// block's first (the sum so far is rescaled by one exp).
@inline(__always)
private func accumulate(_ z: UnsafePointer<Double>, count: Int, blockMaximum: Double, running: inout Double,
                        sum: inout ElementwiseDoubleVector) {
    typealias V = ElementwiseDoubleVector
    if blockMaximum > running {
        if running > -.infinity { sum *= V(repeating: exp(running - blockMaximum)) }
        running = blockMaximum
    }
    guard running > -.infinity else { return }
    let shift = V(repeating: running)
    var i = 0
    while i < count {
        sum += fastExp(loadVector(z + i) - shift)
        i += V.scalarCount
    }
}

/// The largest `|x_i − y_j|²` over `x` rows `rowStart..<rowEnd` and all columns (same layout as the
/// soft-min); the ε-scaling of the Sinkhorn solver starts at this diameter.
@inline(__always)
private func largestSquaredDistanceBody(x: UnsafePointer<Double>, rowStart: Int, rowEnd: Int, dimension p: Int,
                                        panels: UnsafePointer<Double>, columns m: Int) -> Double {
    typealias V = ElementwiseDoubleVector
    let width = V.scalarCount
    let panelCount = (m + width - 1) / width
    var largest = 0.0
    for row in rowStart..<rowEnd {
        let xi = x + row * p
        for q in 0..<panelCount {
            let panel = panels + q * p * width
            var d = V()
            for k in 0..<p {
                let e = V(repeating: xi[k]) - loadVector(panel + k * width)
                d = d.addingProduct(e, e)
            }
            for lane in 0..<Swift.min(width, m - q * width) where d[lane] > largest { largest = d[lane] }
        }
    }
    return largest
}

/// Entry points of this module's copy (see `StreamingSoftMin` for the layouts).
public enum SoftMinKernels {
    /// Columns per panel of the packed second cloud: this module's `Double` vector width.
    public static let panelWidth = ElementwiseDoubleVector.scalarCount

    public static func softMinRows(x: UnsafePointer<Double>, rowStart: Int, rowEnd: Int, dimension: Int,
                                   panels: UnsafePointer<Double>, columns: Int, potential: UnsafePointer<Double>,
                                   logWeight: Double, epsilon: Double, out: UnsafeMutablePointer<Double>) {
        softMinRowsBody(x: x, rowStart: rowStart, rowEnd: rowEnd, dimension: dimension, panels: panels, columns: columns,
                        potential: potential, logWeight: logWeight, epsilon: epsilon, out: out)
    }

    public static func largestSquaredDistance(x: UnsafePointer<Double>, rowStart: Int, rowEnd: Int, dimension: Int,
                                              panels: UnsafePointer<Double>, columns: Int) -> Double {
        largestSquaredDistanceBody(x: x, rowStart: rowStart, rowEnd: rowEnd, dimension: dimension, panels: panels, columns: columns)
    }

    /// e^x lane by lane for `count` values (the kernel's exponential, for tests against libm).
    public static func exponential(_ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>, _ count: Int) {
        var i = 0
        let width = ElementwiseDoubleVector.scalarCount
        while i + width <= count {
            storeVector(fastExp(loadVector(input + i)), output + i)
            i += width
        }
        var last = ElementwiseDoubleVector()
        for lane in 0..<(count - i) { last[lane] = input[i + lane] }
        let result = fastExp(last)
        for lane in 0..<(count - i) { output[i + lane] = result[lane] }
    }
}
