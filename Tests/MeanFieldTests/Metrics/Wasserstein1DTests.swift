// Exact 1-D Wasserstein distances (Sources/MeanField/Metrics/Wasserstein1D.swift) against closed
// forms: Gaussians on quantile grids, translates, a weighted case by hand.
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// Φ⁻¹(p) of the standard normal by bisection on Φ(z) = ½ erfc(−z/√2) (an independent reference).
private func standardNormalQuantile(_ p: Double) -> Double {
    var low = -40.0, high = 40.0
    for _ in 0..<100 {
        let middle = 0.5 * (low + high)
        if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
    }
    return 0.5 * (low + high)
}

/// `count` points at the quantiles (i + ½)/count of N(mean, sd²).
private func gaussianQuantilePoints(_ count: Int, mean: Double, sd: Double) -> [Double] {
    (0..<count).map { mean + sd * standardNormalQuantile((Double($0) + 0.5) / Double(count)) }
}

@Suite struct Wasserstein1DTests {
    @Test func gaussiansMatchTheClosedForm() throws {
        // W2(N(m1, s1²), N(m2, s2²)) = sqrt((m1 − m2)² + (s1 − s2)²).
        let grids = [20_000, 15_001].map { gaussianQuantilePoints($0, mean: 0, sd: 1) }
        for (m1, s1, m2, s2) in [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 2.0, 1.0), (1.0, 0.5, -1.0, 2.0), (3.0, 1.5, 3.0, 0.2)] {
            let expected = ((m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2)).squareRoot()
            // Equal sizes (sorted pairing) and different sizes (CDF merge).
            // (The discretization error of quantile-placed points is ≤ 2e-3 here, measured with numpy.)
            let x = grids[0].map { m1 + s1 * $0 }
            for y in [grids[0].map { m2 + s2 * $0 }.shuffled(), grids[1].map { m2 + s2 * $0 }] {
                let value = try Wasserstein1D.w2(x, y)
                #expect(abs(value - expected) < 2.5e-3, "W2 \(value) vs \(expected) (n = \(x.count), m = \(y.count))")
            }
        }
        // The CDF merge against an independent numpy evaluation of ∫|F⁻¹ − G⁻¹|² on the merged grid.
        let merged = try Wasserstein1D.w2(gaussianQuantilePoints(4_000, mean: 0, sd: 1), gaussianQuantilePoints(3_001, mean: 0, sd: 1))
        #expect(abs(merged - 0.004278870762980565) < 1e-10)
    }

    @Test func translateIsAtTheShift() throws {
        var random = PhiloxRandom(seed: 5)
        let x = random.normal([500], standardDeviation: 3.0).scalars
        let shifted = x.map { $0 - 1.25 }.reversed()
        #expect(abs(try Wasserstein1D.w2(x, Array(shifted)) - 1.25) < 1e-12)
        #expect(abs(try Wasserstein1D.w1(x, Array(shifted)) - 1.25) < 1e-12)
        #expect(try Wasserstein1D.w2(x, x.shuffled()) == 0)
    }

    @Test func weightedCaseByHand() throws {
        // α = ½δ₀ + ½δ₁, β = ¼δ₀ + ¾δ₂. Quantile coupling: t ∈ [0, ¼]: 0→0; [¼, ½]: 0→2; [½, 1]: 1→2.
        // W2² = ¼·4 + ½·1 = 1.5; W1 = ¼·2 + ½·1 = 1 (= ∫|F_α − F_β| = 1·¼ + 1·¾).
        let w2 = try Wasserstein1D.w2([1, 0], [2, 0], weightsX: [2, 2], weightsY: [3, 1])
        #expect(abs(w2 - 1.5.squareRoot()) < 1e-15)
        #expect(abs(try Wasserstein1D.w1([1, 0], [2, 0], weightsX: [2, 2], weightsY: [3, 1]) - 1) < 1e-15)
        // W3³ = ¼·8 + ½·1.
        #expect(abs(try Wasserstein1D.cost([0, 1], [0, 2], weightsY: [1, 3], order: 3) - 2.5) < 1e-14)
        // A zero weight removes its point; explicit uniform weights give the sorted pairing.
        #expect(try Wasserstein1D.w2([0, 100], [0], weightsX: [1, 0]) == 0)
        let x = [0.3, -1, 2, 5], y = [1.0, 4, -2, 0]
        let pairing = try Wasserstein1D.cost(x, y), merged = try Wasserstein1D.cost(x, y, weightsX: [1, 1, 1, 1])
        #expect(abs(pairing - merged) < 1e-14)
        #expect(abs(pairing - ((-2 + 1) * (-2 + 1) + 0.3 * 0.3 + 1 + 1) / 4) < 1e-14)
    }

    @Test func rejectsBadMeasures() {
        #expect(throws: RunError.self) { try Wasserstein1D.w2([], [1]) }
        #expect(throws: RunError.self) { try Wasserstein1D.w2([1, 2], [1], weightsX: [1]) }
        #expect(throws: RunError.self) { try Wasserstein1D.w2([1, 2], [1], weightsX: [1, -1]) }
        #expect(throws: RunError.self) { try Wasserstein1D.w2([1, 2], [1], weightsX: [0, 0]) }
        #expect(throws: RunError.self) { try Wasserstein1D.w2([1, .nan], [1]) }
        #expect(throws: RunError.self) { try Wasserstein1D.cost([1], [1], order: 0.5) }
    }
}
