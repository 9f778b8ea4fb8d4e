// Run-time choice and threading of the streaming soft-min (Shared/SoftMinBodies.swift) by CPU level.
#if canImport(MeanFieldKernelsAVX512)
import MeanFieldKernelsAVX512
#endif
#if canImport(MeanFieldKernelsAVX2)
import MeanFieldKernelsAVX2
#endif

/// A point cloud `[m, p]` laid out for the streaming kernels: panels of `width` columns, panel q
/// holding point `qW + l`'s coordinate k at `q·p·W + k·W + l` (the last panel padded with zeros).
public struct PackedCloud: Sendable {
    public let panels: [Double]
    public let count: Int
    public let dimension: Int
    let level: CPULevel
}

/// The Sinkhorn soft-min between two point clouds without the cost matrix (docs/theory.md §1.5):
/// memory O((n + m)·p), each call recomputes the n·m squared distances from the points. Rows are
/// split among `Threading.threadCount` workers; results are the same bits on any thread count.
public enum StreamingSoftMin {
    /// Rows per parallel task (a multiple of the kernels' 4-row tile).
    private static let rowsPerTask = 64

    /// The kernels of one CPU level (plain function references, as `ElementwiseTable`).
    private struct Kernels {
        let panelWidth: Int
        let softMinRows: (UnsafePointer<Double>, Int, Int, Int, UnsafePointer<Double>, Int, UnsafePointer<Double>,
                          Double, Double, UnsafeMutablePointer<Double>) -> Void
        let largestSquaredDistance: (UnsafePointer<Double>, Int, Int, Int, UnsafePointer<Double>, Int) -> Double
        let exponential: (UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int) -> Void
    }

    private static let tables: [Kernels] = CPULevel.allCases.map { level in
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            typealias K = MeanFieldKernelsAVX512.SoftMinKernels
            return Kernels(panelWidth: K.panelWidth, softMinRows: K.softMinRows, largestSquaredDistance: K.largestSquaredDistance,
                           exponential: K.exponential)
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            typealias K = MeanFieldKernelsAVX2.SoftMinKernels
            return Kernels(panelWidth: K.panelWidth, softMinRows: K.softMinRows, largestSquaredDistance: K.largestSquaredDistance,
                           exponential: K.exponential)
            #else
            fallthrough
            #endif
        case .portable:
            typealias K = SoftMinKernels
            return Kernels(panelWidth: K.panelWidth, softMinRows: K.softMinRows, largestSquaredDistance: K.largestSquaredDistance,
                           exponential: K.exponential)
        }
    }

    static func panelWidth(_ level: CPULevel) -> Int { tables[level.rawValue].panelWidth }

    /// `cloud` (`[count, dimension]` row-major) in the panel layout of `level`'s kernels (the level
    /// the soft-min then runs at).
    public static func pack(_ cloud: UnsafeBufferPointer<Double>, count: Int, dimension: Int,
                            level: CPULevel = .active) -> PackedCloud {
        precondition(level.isCompiledIn && level <= CPULevel.hostMaximum, "StreamingSoftMin: \(level) kernels cannot run here")
        let width = panelWidth(level)
        let panelCount = (count + width - 1) / width
        var panels = [Double](repeating: 0, count: panelCount * dimension * width)
        for j in 0..<count {
            let (q, lane) = j.quotientAndRemainder(dividingBy: width)
            for k in 0..<dimension { panels[(q * dimension + k) * width + lane] = cloud[j * dimension + k] }
        }
        return PackedCloud(panels: panels, count: count, dimension: dimension, level: level)
    }

    /// `out_i = −ε·(logWeight + log Σ_j exp((g_j − |x_i − y_j|²)/ε))` for every row of `x`
    /// (`[n, p]` row-major) against the packed cloud `y`, with `potential` g (`y.count` values).
    public static func softMin(_ x: UnsafeBufferPointer<Double>, count n: Int, against y: PackedCloud,
                               potential: [Double], logWeight: Double, epsilon: Double) -> [Double] {
        precondition(potential.count == y.count && x.count == n * y.dimension, "StreamingSoftMin: shapes")
        let kernels = tables[y.level.rawValue], width = kernels.panelWidth
        var padded = potential
        padded.append(contentsOf: repeatElement(-Double.infinity, count: (y.count + width - 1) / width * width - y.count))
        var out = [Double](repeating: 0, count: n)
        let tasks = (n + rowsPerTask - 1) / rowsPerTask
        out.withUnsafeMutableBufferPointer { result in
            let output = result.baseAddress!
            y.panels.withUnsafeBufferPointer { panels in
                padded.withUnsafeBufferPointer { g in
                    Threading.parallelFor(tasks) { task in
                        let start = task * rowsPerTask, end = Swift.min(n, start + rowsPerTask)
                        kernels.softMinRows(x.baseAddress!, start, end, y.dimension, panels.baseAddress!, y.count, g.baseAddress!,
                                            logWeight, epsilon, output)
                    }
                }
            }
        }
        return out
    }

    /// The largest `|x_i − y_j|²` over all pairs.
    public static func largestSquaredDistance(_ x: UnsafeBufferPointer<Double>, count n: Int, against y: PackedCloud) -> Double {
        let kernels = tables[y.level.rawValue]
        let tasks = (n + rowsPerTask - 1) / rowsPerTask
        var largest = [Double](repeating: 0, count: tasks)
        largest.withUnsafeMutableBufferPointer { maxima in
            let maxima = maxima.baseAddress!
            y.panels.withUnsafeBufferPointer { panels in
                Threading.parallelFor(tasks) { task in
                    let start = task * rowsPerTask, end = Swift.min(n, start + rowsPerTask)
                    maxima[task] = kernels.largestSquaredDistance(x.baseAddress!, start, end, y.dimension, panels.baseAddress!, y.count)
                }
            }
        }
        return largest.max() ?? 0
    }

    /// The kernels' e^x (for tests against libm).
    public static func exponential(_ values: [Double], level: CPULevel = .active) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                tables[level.rawValue].exponential(input.baseAddress!, output.baseAddress!, values.count)
            }
        }
        return out
    }
}
