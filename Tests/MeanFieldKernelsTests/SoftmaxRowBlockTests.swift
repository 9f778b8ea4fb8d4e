// The row softmax of short rows and its backward run W rows at a time (Shared/ElementwiseBodies.swift,
// `softmaxRowBlocksBody`, `softmaxBackwardRowBlocksBody`). They must give the bits of the
// one-row-at-a-time path — the fused engine's results may not depend on how many rows a call gets —
// and the functions themselves, checked against float64 computations of exp(x − max) / Σ exp(x − max)
// and of scale·w ⊙ (g − Σ g ⊙ w).
import Foundation
import Testing
@testable import MeanFieldKernels

@Suite("Softmax of short rows, W rows at a time")
struct SoftmaxRowBlockTests {
    /// Row lengths around the vector widths 8 and 16 and the engine's 21, 49 and 65 tokens (blocks
    /// are used below 8 vectors: n < 64 or < 128), row counts with and without leftover rows.
    static let lengths = [1, 5, 7, 8, 9, 15, 16, 17, 21, 31, 49, 63, 64, 65, 127, 130]
    static let rowCounts = [1, 7, 16, 17, 40, 336]

    static func values(rows: Int, n: Int, seed: UInt64) -> [Float] {
        var state = seed
        var values = (0..<(rows * n)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(truncatingIfNeeded: state >> 40) % 2_000) / 100 - 10  // in [−10, 10)
        }
        if rows > 3 {
            for i in 0..<n { values[2 * n + i] = -.infinity }  // a fully masked row (maximum not finite)
            values[3 * n] = 80                                 // a large score next to small ones
        }
        return values
    }

    /// `body(level, table, n, rowCount)` for every CPU level here, row length and row count.
    static func forEachCase(_ body: (CPULevel, ElementwiseTable<Float>, Int, Int) -> Void) {
        for level in CPULevel.available {
            for n in lengths {
                for rowCount in rowCounts { body(level, Float.dispatch(level), n, rowCount) }
            }
        }
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    @Test("blocks of rows give the one-row path's bits, and the softmax, at every level here")
    func blocksEqualRowByRow() {
        Self.forEachCase { level, table, n, rowCount in
            let input = Self.values(rows: rowCount, n: n, seed: UInt64(n * 1_000 + rowCount))
            var together = input, oneByOne = input
            together.withUnsafeMutableBufferPointer { table.softmaxRows($0.baseAddress!, rowCount, n) }
            oneByOne.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<rowCount { table.softmaxRows(buffer.baseAddress! + row * n, 1, n) }
            }
            #expect(Self.sameBits(together, oneByOne), "\(level) n = \(n) rows = \(rowCount)")

            var worst = 0.0
            for row in 0..<rowCount where rowCount <= 3 || row != 2 {
                let x = input[(row * n)..<((row + 1) * n)].map(Double.init)
                let top = x.max()!
                let total = x.reduce(0) { $0 + exp($1 - top) }
                for i in 0..<n {
                    let expected = exp(x[i] - top) / total
                    worst = max(worst, abs(Double(together[row * n + i]) - expected) / max(expected, 1e-30))
                }
            }
            #expect(worst.isFinite && worst <= 2e-6, "\(level) n = \(n) rows = \(rowCount): relative error \(worst)")
        }
    }

    @Test("the backward by blocks of rows gives the one-row path's bits, and scale·w ⊙ (g − Σ g ⊙ w), at every level here")
    func backwardBlocksEqualRowByRow() {
        Self.forEachCase { level, table, n, rowCount in
            var weights = Self.values(rows: rowCount, n: n, seed: UInt64(n * 1_000 + rowCount))
            weights.withUnsafeMutableBufferPointer { table.softmaxRows($0.baseAddress!, rowCount, n) }
            let upstream = Self.values(rows: rowCount, n: n, seed: UInt64(n * 7_000 + rowCount + 1)).map { $0 / 10 }
            let scale: Float = 0.75
            var together = upstream, oneByOne = upstream
            weights.withUnsafeBufferPointer { w in
                together.withUnsafeMutableBufferPointer { table.softmaxBackward(w.baseAddress!, $0.baseAddress!, rowCount, n, scale) }
                oneByOne.withUnsafeMutableBufferPointer { g in
                    for row in 0..<rowCount {
                        table.softmaxBackward(w.baseAddress! + row * n, g.baseAddress! + row * n, 1, n, scale)
                    }
                }
            }
            #expect(Self.sameBits(together, oneByOne), "\(level) n = \(n) rows = \(rowCount)")

            // Error relative to the size of the row's terms, scale·max w·(max |g| + Σ |g ⊙ w|): the
            // result is a difference, which cancels where one weight is near 1.
            var worst = 0.0
            for row in 0..<rowCount {
                let w = weights[(row * n)..<((row + 1) * n)].map(Double.init)
                let g = upstream[(row * n)..<((row + 1) * n)].map(Double.init)
                let total = zip(w, g).reduce(0) { $0 + $1.0 * $1.1 }
                let size = Double(scale) * w.max()! * (g.map(abs).max()! + zip(w, g).reduce(0) { $0 + abs($1.0 * $1.1) }) + 1e-30
                for i in 0..<n {
                    let expected = Double(scale) * w[i] * (g[i] - total)
                    worst = max(worst, abs(Double(together[row * n + i]) - expected) / size)
                }
            }
            #expect(worst.isFinite && worst <= 1e-5, "\(level) n = \(n) rows = \(rowCount): relative error \(worst)")
        }
    }
}
