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
    var width: Int { StreamingSoftMin.panelWidth(level) }
}

/// The Sinkhorn soft-min between two point clouds without the cost matrix (docs/theory.md §1.5):
/// memory O((n + m)·p), each call recomputes the n·m squared distances from the points. Rows are
/// split among `Threading.threadCount` workers; results are the same bits on any thread count.
public enum StreamingSoftMin {
    /// Rows per parallel task (a multiple of the kernels' 4-row tile).
    private static let rowsPerTask = 64

    static func panelWidth(_ level: CPULevel) -> Int {
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            return MeanFieldKernelsAVX512.SoftMinKernels.panelWidth
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            return MeanFieldKernelsAVX2.SoftMinKernels.panelWidth
            #else
            fallthrough
            #endif
        case .portable:
            return SoftMinKernels.panelWidth
        }
    }

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
        let width = y.width
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
                        run(y.level, x.baseAddress!, start, end, y.dimension, panels.baseAddress!, y.count, g.baseAddress!,
                            logWeight, epsilon, output)
                    }
                }
            }
        }
        return out
    }

    /// The largest `|x_i − y_j|²` over all pairs.
    public static func largestSquaredDistance(_ x: UnsafeBufferPointer<Double>, count n: Int, against y: PackedCloud) -> Double {
        let tasks = (n + rowsPerTask - 1) / rowsPerTask
        var largest = [Double](repeating: 0, count: tasks)
        largest.withUnsafeMutableBufferPointer { maxima in
            let maxima = maxima.baseAddress!
            y.panels.withUnsafeBufferPointer { panels in
                Threading.parallelFor(tasks) { task in
                    let start = task * rowsPerTask, end = Swift.min(n, start + rowsPerTask)
                    maxima[task] = diameter(y.level, x.baseAddress!, start, end, y.dimension, panels.baseAddress!, y.count)
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
                switch level {
                case .avx512:
                    #if canImport(MeanFieldKernelsAVX512)
                    MeanFieldKernelsAVX512.SoftMinKernels.exponential(input.baseAddress!, output.baseAddress!, count: values.count)
                    return
                    #else
                    fallthrough
                    #endif
                case .avx2:
                    #if canImport(MeanFieldKernelsAVX2)
                    MeanFieldKernelsAVX2.SoftMinKernels.exponential(input.baseAddress!, output.baseAddress!, count: values.count)
                    return
                    #else
                    fallthrough
                    #endif
                case .portable:
                    SoftMinKernels.exponential(input.baseAddress!, output.baseAddress!, count: values.count)
                }
            }
        }
        return out
    }

    private static func run(_ level: CPULevel, _ x: UnsafePointer<Double>, _ start: Int, _ end: Int, _ p: Int,
                            _ panels: UnsafePointer<Double>, _ m: Int, _ g: UnsafePointer<Double>,
                            _ logWeight: Double, _ epsilon: Double, _ out: UnsafeMutablePointer<Double>) {
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            MeanFieldKernelsAVX512.SoftMinKernels.softMinRows(x: x, rowStart: start, rowEnd: end, dimension: p, panels: panels,
                                                              columns: m, potential: g, logWeight: logWeight, epsilon: epsilon, out: out)
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            MeanFieldKernelsAVX2.SoftMinKernels.softMinRows(x: x, rowStart: start, rowEnd: end, dimension: p, panels: panels,
                                                            columns: m, potential: g, logWeight: logWeight, epsilon: epsilon, out: out)
            #else
            fallthrough
            #endif
        case .portable:
            SoftMinKernels.softMinRows(x: x, rowStart: start, rowEnd: end, dimension: p, panels: panels,
                                       columns: m, potential: g, logWeight: logWeight, epsilon: epsilon, out: out)
        }
    }

    private static func diameter(_ level: CPULevel, _ x: UnsafePointer<Double>, _ start: Int, _ end: Int, _ p: Int,
                                 _ panels: UnsafePointer<Double>, _ m: Int) -> Double {
        switch level {
        case .avx512:
            #if canImport(MeanFieldKernelsAVX512)
            return MeanFieldKernelsAVX512.SoftMinKernels.largestSquaredDistance(x: x, rowStart: start, rowEnd: end, dimension: p,
                                                                               panels: panels, columns: m)
            #else
            fallthrough
            #endif
        case .avx2:
            #if canImport(MeanFieldKernelsAVX2)
            return MeanFieldKernelsAVX2.SoftMinKernels.largestSquaredDistance(x: x, rowStart: start, rowEnd: end, dimension: p,
                                                                             panels: panels, columns: m)
            #else
            fallthrough
            #endif
        case .portable:
            return SoftMinKernels.largestSquaredDistance(x: x, rowStart: start, rowEnd: end, dimension: p, panels: panels, columns: m)
        }
    }
}
