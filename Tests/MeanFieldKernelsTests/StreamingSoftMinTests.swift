// The streaming soft-min of the Sinkhorn solver (Shared/SoftMinBodies.swift, StreamingSoftMin.swift)
// against a scalar reference built from libm's exp and log on the stored cost matrix, at every CPU
// level available here; its exponential against libm; the same bits on 1 and 2 threads.
import Foundation
import MeanFieldKernels
import Testing

/// Deterministic values in [−scale, scale) (a linear congruential generator; no Foundation random).
private func values(_ count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Double(state >> 11) / Double(1 << 53) * 2 - 1) * scale
    }
}

/// `−ε (logWeight + log Σ_j exp((g_j − |x_i − y_j|²)/ε))` the plain way: the cost stored, two passes.
private func referenceSoftMin(_ x: [Double], _ n: Int, _ y: [Double], _ m: Int, _ p: Int, _ g: [Double],
                              logWeight: Double, epsilon: Double) -> [Double] {
    (0..<n).map { i in
        let z = (0..<m).map { j -> Double in
            var cost = 0.0
            for k in 0..<p { cost += (x[i * p + k] - y[j * p + k]) * (x[i * p + k] - y[j * p + k]) }
            return (g[j] - cost) / epsilon
        }
        let largest = z.max()!
        return -epsilon * (logWeight + largest + log(z.reduce(0) { $0 + exp($1 - largest) }))
    }
}

@Suite struct StreamingSoftMinTests {
    @Test("exp to 2 ulp of libm, 0 below −708", arguments: CPULevel.available)
    func exponentialMatchesLibm(_ level: CPULevel) {
        let inputs = values(4_001, seed: 1, scale: 700) + values(1_001, seed: 2, scale: 1) + [0, -708.5, -1e300, -.infinity, 1e-300]
        let outputs = StreamingSoftMin.exponential(inputs, level: level)
        var worst = 0.0
        for (x, e) in zip(inputs, outputs) where x >= -708 {
            worst = max(worst, abs(e - exp(x)) / exp(x))
        }
        #expect(worst <= 4.5e-16, "\(level): largest relative error \(worst)")
        #expect(outputs[outputs.count - 4] == 0 && outputs[outputs.count - 3] == 0 && outputs[outputs.count - 2] == 0)
    }

    @Test("soft-min against the stored-cost reference", arguments: CPULevel.available)
    func softMinMatchesTheReference(_ level: CPULevel) {
        // Sizes off every tile: rows not a multiple of 4 or 64, columns not of the panel width or of 512.
        for (n, m, p) in [(1, 1, 1), (7, 5, 3), (70, 530, 17), (131, 1_030, 2)] {
            let x = values(n * p, seed: 10, scale: 2), y = values(m * p, seed: 11, scale: 2)
            let g = values(m, seed: 12, scale: 3)
            for epsilon in [0.05, 1.0, 40.0] {
                let packed = y.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: m, dimension: p, level: level) }
                let streamed = x.withUnsafeBufferPointer {
                    StreamingSoftMin.softMin($0, count: n, against: packed, potential: g, logWeight: -log(Double(m)), epsilon: epsilon)
                }
                let reference = referenceSoftMin(x, n, y, m, p, g, logWeight: -log(Double(m)), epsilon: epsilon)
                let error = zip(streamed, reference).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(error <= 1e-13, "\(level) n=\(n) m=\(m) p=\(p) ε=\(epsilon): relative error \(error)")
            }
            let largest = x.withUnsafeBufferPointer {
                StreamingSoftMin.largestSquaredDistance($0, count: n, against: y.withUnsafeBufferPointer {
                    StreamingSoftMin.pack($0, count: m, dimension: p, level: level)
                })
            }
            var brute = 0.0
            for i in 0..<n {
                for j in 0..<m {
                    var cost = 0.0
                    for k in 0..<p { cost += (x[i * p + k] - y[j * p + k]) * (x[i * p + k] - y[j * p + k]) }
                    brute = max(brute, cost)
                }
            }
            #expect(abs(largest - brute) <= 1e-14 * brute, "\(level) n=\(n) m=\(m): \(largest) vs \(brute)")
        }
    }

    @Test func aPointAgainstItselfHasCostExactlyZero() {
        // One point each, equal: out = −ε(logWeight + g/ε) exactly when the distance is exactly 0.
        let point = [0.3, -1.7, 2.9]
        let packed = point.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: 1, dimension: 3) }
        let out = point.withUnsafeBufferPointer {
            StreamingSoftMin.softMin($0, count: 1, against: packed, potential: [0.25], logWeight: 0, epsilon: 0.5)
        }
        #expect(out == [-0.25])
    }

    @Test func sameBitsOnOneAndTwoThreads() {
        let (n, m, p) = (301, 257, 9)
        let x = values(n * p, seed: 20), y = values(m * p, seed: 21), g = values(m, seed: 22)
        let packed = y.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: m, dimension: p) }
        let runs = [1, 2].map { threads in
            Threading.withThreadCount(threads) {
                x.withUnsafeBufferPointer {
                    StreamingSoftMin.softMin($0, count: n, against: packed, potential: g, logWeight: -log(Double(m)), epsilon: 0.1)
                }
            }
        }
        #expect(runs[0] == runs[1])
    }
}
