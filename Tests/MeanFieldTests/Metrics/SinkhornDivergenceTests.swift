// Debiased Sinkhorn divergence (Sources/MeanField/Metrics/SinkhornDivergence.swift) against closed
// forms: one point each, identical clouds, translates (S_ε → |v|²), symmetry and sign.
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// `[n, p]` standard normal cloud scaled by `sd`, plus `shift` on every row.
func metricsTestCloud(_ n: Int, _ p: Int, seed: UInt64, sd: Double = 1, shift: [Double]? = nil) -> Tensor<Double> {
    var random = PhiloxRandom(seed: seed)
    let base: Tensor<Double> = random.normal([n, p], standardDeviation: sd)
    guard let shift else { return base }
    return Tensor(shape: [n, p], scalars: base.scalars.enumerated().map { $0.element + shift[$0.offset % p] })
}

@Suite struct SinkhornDivergenceTests {
    @Test func onePointEachIsTheSquaredDistance() throws {
        // δ_x vs δ_y: the only coupling is δ_(x,y), so OT_ε = |x − y|², the self terms are 0.
        let a = Tensor<Double>(shape: [1, 2], scalars: [0, 0]), b = Tensor<Double>(shape: [1, 2], scalars: [3, 4])
        for epsilon in [0.01, 1, 100] {
            let result = try SinkhornDivergence(epsilon: epsilon).divergence(a, b)
            #expect(abs(result.divergence - 25) < 1e-9, "ε = \(epsilon): \(result.divergence)")
            #expect(result.converged)
        }
    }

    @Test func identicalCloudsAreAtZero() throws {
        let a = metricsTestCloud(150, 5, seed: 1)
        for epsilon in [0.05, 1.0] {
            let result = try SinkhornDivergence(epsilon: epsilon).divergence(a, a)
            #expect(abs(result.divergence) < 1e-12, "ε = \(epsilon): S = \(result.divergence)")
            #expect(result.totalIterations > 3)
        }
        #expect(try SinkhornDivergence(epsilon: 1).divergence(a, a).converged)
        // A copy of the cloud (not the same array) is the same measure.
        let copy = Tensor(shape: a.shape, scalars: a.scalars.map { $0 + 0 })
        #expect(abs(try SinkhornDivergence(epsilon: 0.3).divergence(a, copy).divergence) < 1e-12)
    }

    @Test func translatedCloudsApproachTheSquaredShift() throws {
        // W2²(α, α + v) = |v|² (translation is the Brenier map) and S_ε → W2² as ε → 0.
        let shift = [0.6, -0.8, 0.0]
        let a = metricsTestCloud(120, 3, seed: 2), b = metricsTestCloud(120, 3, seed: 2, shift: shift)
        var previousError = Double.infinity
        for epsilon in [0.1, 0.01, 0.001] {
            let result = try SinkhornDivergence(epsilon: epsilon).divergence(a, b)
            let error = abs(result.divergence - 1)
            if epsilon == 0.001 { #expect(result.converged, "ε = \(epsilon): not converged after \(result.iterations)") }
            #expect(error <= previousError + 1e-9, "ε = \(epsilon): error \(error) grew from \(previousError)")
            previousError = error
        }
        #expect(previousError < 0.01, "S_0.001 misses |v|² = 1 by \(previousError)")
    }

    @Test func symmetricAndNonNegative() throws {
        let sinkhorn = SinkhornDivergence(epsilon: 0.1)
        for seed in 0..<4 as Range<UInt64> {
            let a = metricsTestCloud(60, 4, seed: 10 + seed), b = metricsTestCloud(85, 4, seed: 20 + seed, sd: 1.3)
            let forward = try sinkhorn.divergence(a, b), backward = try sinkhorn.divergence(b, a)
            #expect(abs(forward.divergence - backward.divergence) < 1e-8 * Swift.max(1, forward.divergence))
            #expect(forward.divergence > 0)
            #expect(forward.crossCost > 0 && forward.selfCostFirst > 0)
        }
        // Without ε-scaling the same fixed point is reached.
        let a = metricsTestCloud(60, 4, seed: 10), b = metricsTestCloud(85, 4, seed: 20, sd: 1.3)
        let plain = try SinkhornDivergence(epsilon: 0.1, epsilonScaling: nil).divergence(a, b)
        let scaled = try sinkhorn.divergence(a, b)
        #expect(abs(plain.divergence - scaled.divergence) < 1e-5 * scaled.divergence, "plain \(plain.divergence) vs ε-scaled \(scaled.divergence)")
    }

    @Test func reportsAnUnconvergedRunAndRejectsBadSettings() throws {
        let a = metricsTestCloud(40, 2, seed: 3), b = metricsTestCloud(40, 2, seed: 4)
        let capped = try SinkhornDivergence(epsilon: 1e-4, maxIterations: 3, epsilonScaling: nil).divergence(a, b)
        #expect(!capped.converged && capped.iterations[0] == 3 && capped.marginalViolation > 1e-5)
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 0).divergence(a, b) }
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 1, epsilonScaling: 1.5).divergence(a, b) }
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 1).divergence(a, metricsTestCloud(4, 3, seed: 1)) }
    }
}
