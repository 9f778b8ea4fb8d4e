// The float64 softmax computes e^x with its own vector exponential (Shared/ElementwiseBodies.swift,
// `fastExp` for Double) instead of libm's scalar exp. Checked here against libm: a float64 limit
// study may not lose digits to it.
import Foundation
import Testing
@testable import MeanFieldKernels

@Suite("Float64 softmax with the vector exponential")
struct DoubleSoftmaxTests {
    /// Softmax of rows [0, x]: the second weight is e^x / (1 + e^x), so its relative error is the
    /// exponential's (plus a rounding or two), for x over the whole range where e^x is a normal double.
    @Test("two-element rows [0, x], x in [−708, 0]: within 4e-15 of libm, at every level here")
    func exponentialAgreesWithLibm() {
        let sweep: [Double] = Array(stride(from: -708.0, through: 0, by: 0.3711))
        let xs: [Double] = sweep + [-1e-9, -0.5 * log(2.0), -log(2.0), -1, -20, -700.5]
        for level in CPULevel.available {
            var rows: [Double] = xs.flatMap { x -> [Double] in [0, x] }
            rows.withUnsafeMutableBufferPointer { Double.dispatch(level).softmaxRows($0.baseAddress!, xs.count, 2) }
            var worst = 0.0, worstX = 0.0
            for (index, x) in xs.enumerated() {
                let e: Double = exp(x)
                let expected: [Double] = [1 / (1 + e), e / (1 + e)]
                for lane in 0..<2 {
                    let difference: Double = abs(rows[2 * index + lane] - expected[lane])
                    let error: Double = difference / expected[lane]
                    if !(error <= worst) { worst = error; worstX = x }
                }
            }
            #expect(worst <= 4e-15, "\(level): relative error \(worst) at x = \(worstX)")
        }
    }

    /// Rows as the engine's score maps give them (21, 49 and 65 tokens, lengths around the vector
    /// widths), values in [−40, 40), one masked score (−∞: weight exactly 0) per row.
    @Test("rows of 1…130 scores with a masked one: within 1e-14 of a libm softmax, masked weight exactly 0")
    func rowsAgreeWithLibmSoftmax() {
        var state: UInt64 = 12_345
        for level in CPULevel.available {
            for n in [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 21, 31, 49, 64, 65, 130] {
                let rowCount = 37
                var input = (0..<(rowCount * n)).map { _ -> Double in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Double(state >> 11) / Double(1 << 53) * 80 - 40
                }
                if n > 1 { for row in 0..<rowCount { input[row * n + (row % n)] = -.infinity } }
                var output = input
                output.withUnsafeMutableBufferPointer { Double.dispatch(level).softmaxRows($0.baseAddress!, rowCount, n) }
                var worst = 0.0
                for row in 0..<rowCount {
                    let x = Array(input[(row * n)..<((row + 1) * n)])
                    let top = x.max()!
                    let total = x.reduce(0) { $0 + exp($1 - top) }
                    for i in 0..<n {
                        let expected = exp(x[i] - top) / total, value = output[row * n + i]
                        if x[i] == -.infinity {
                            #expect(value == 0, "\(level) n = \(n): a masked score weighs \(value)")
                        } else if expected > 1e-300 {
                            worst = max(worst, abs(value - expected) / expected)
                        } else {
                            #expect(value <= 1e-300, "\(level) n = \(n): e^x below the normal range gave \(value)")
                        }
                    }
                }
                #expect(worst <= 1e-14, "\(level) n = \(n): relative error \(worst)")
            }
        }
    }
}
