// Debiased Sinkhorn divergence and Gaussian-kernel MMD (Sources/MeanField/Metrics/
// SinkhornDivergence.swift, MaximumMeanDiscrepancy.swift) against closed forms.
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// `[n, p]` standard normal cloud scaled by `sd`, plus `shift` on every row.
private func cloud(_ n: Int, _ p: Int, seed: UInt64, sd: Double = 1, shift: [Double]? = nil) -> Tensor<Double> {
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
        let a = cloud(150, 5, seed: 1)
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
        let a = cloud(120, 3, seed: 2), b = cloud(120, 3, seed: 2, shift: shift)
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
            let a = cloud(60, 4, seed: 10 + seed), b = cloud(85, 4, seed: 20 + seed, sd: 1.3)
            let forward = try sinkhorn.divergence(a, b), backward = try sinkhorn.divergence(b, a)
            #expect(abs(forward.divergence - backward.divergence) < 1e-8 * Swift.max(1, forward.divergence))
            #expect(forward.divergence > 0)
            #expect(forward.crossCost > 0 && forward.selfCostFirst > 0)
        }
        // Without ε-scaling the same fixed point is reached.
        let a = cloud(60, 4, seed: 10), b = cloud(85, 4, seed: 20, sd: 1.3)
        let plain = try SinkhornDivergence(epsilon: 0.1, epsilonScaling: nil).divergence(a, b)
        let scaled = try sinkhorn.divergence(a, b)
        #expect(abs(plain.divergence - scaled.divergence) < 1e-5 * scaled.divergence, "plain \(plain.divergence) vs ε-scaled \(scaled.divergence)")
    }

    @Test func reportsAnUnconvergedRunAndRejectsBadSettings() throws {
        let a = cloud(40, 2, seed: 3), b = cloud(40, 2, seed: 4)
        let capped = try SinkhornDivergence(epsilon: 1e-4, maxIterations: 3, epsilonScaling: nil).divergence(a, b)
        #expect(!capped.converged && capped.iterations[0] == 3 && capped.marginalViolation > 1e-5)
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 0).divergence(a, b) }
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 1, epsilonScaling: 1.5).divergence(a, b) }
        #expect(throws: RunError.self) { try SinkhornDivergence(epsilon: 1).divergence(a, cloud(4, 3, seed: 1)) }
    }
}

@Suite struct MaximumMeanDiscrepancyTests {
    @Test func twoPointsFollowTheKernelFormula() throws {
        // n = m = 1: MMD²_b = k(x,x) + k(y,y) − 2k(x,y) = 2 − 2 exp(−25/(2·4)).
        let a = Tensor<Double>(shape: [1, 2], scalars: [0, 0]), b = Tensor<Double>(shape: [1, 2], scalars: [3, 4])
        let result = try MaximumMeanDiscrepancy(bandwidth: 2).compute(a, b)
        #expect(abs(result.biased - (2 - 2 * exp(-25.0 / 8))) < 1e-14)
        #expect(result.unbiased.isNaN)
    }

    @Test func gaussianSamplesMatchTheClosedForm() throws {
        // x ~ N(μ1, σ1² I_d), y ~ N(μ2, σ2² I_d), Gaussian kernel of bandwidth h:
        // E k(x, y) = (h²/(h²+σ1²+σ2²))^{d/2} exp(−|μ1−μ2|²/(2(h²+σ1²+σ2²))).
        let (d, n, h) = (3, 1_500, 1.5)
        let (sigma1, sigma2) = (1.0, 0.8), shift = [0.7, 0.0, -0.3]
        func expectedKernel(_ s1: Double, _ s2: Double, _ distanceSquared: Double) -> Double {
            let total = h * h + s1 * s1 + s2 * s2
            return pow(h * h / total, Double(d) / 2) * exp(-distanceSquared / (2 * total))
        }
        let population = expectedKernel(sigma1, sigma1, 0) + expectedKernel(sigma2, sigma2, 0)
            - 2 * expectedKernel(sigma1, sigma2, shift.reduce(0) { $0 + $1 * $1 })
        // One U-statistic has sd ≈ 0.0064 at n = 1,500 (numpy, 20 replicates); the mean of 6 has ≈ 0.0026,
        // and the tolerance is ~4 of those (population MMD² ≈ 0.0775).
        var estimates: [Double] = []
        for replicate in 0..<6 as Range<UInt64> {
            let x = cloud(n, d, seed: 100 + replicate, sd: sigma1), y = cloud(n, d, seed: 200 + replicate, sd: sigma2, shift: shift)
            estimates.append(try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y).unbiased)
        }
        let meanEstimate = estimates.reduce(0, +) / 6
        #expect(abs(meanEstimate - population) < 0.011, "MMD²_u \(meanEstimate) vs \(population)")
        let x = cloud(n, d, seed: 31, sd: sigma1), y = cloud(n, d, seed: 32, sd: sigma2, shift: shift)
        let result = try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y)
        // V − U = (1/n)(1 − mean off-diagonal k_xx) + (1/m)(1 − mean off-diagonal k_yy) ≈ O(1/n) > 0.
        #expect(result.biased > result.unbiased && result.biased - result.unbiased < 2.0 / Double(n))
        // Same law: the U-statistic is centred at 0.
        let other = cloud(n, d, seed: 33, sd: sigma1)
        #expect(abs(try MaximumMeanDiscrepancy(bandwidth: h).squared(x, other, unbiased: true)) < 0.004)
        #expect(try MaximumMeanDiscrepancy(bandwidth: h).squared(x, x) < 1e-12)
    }

    @Test func estimatorsMatchADirectDoubleLoop() throws {
        let x = cloud(30, 4, seed: 41), y = cloud(45, 4, seed: 42, sd: 2)
        let h = 1.7
        func kernel(_ u: [Double], _ v: [Double]) -> Double { exp(-zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (2 * h * h)) }
        let xs = (0..<30).map { i in (0..<4).map { x[i, $0] } }, ys = (0..<45).map { j in (0..<4).map { y[j, $0] } }
        var xx = 0.0, yy = 0.0, xy = 0.0, xxOff = 0.0, yyOff = 0.0
        for i in 0..<30 { for k in 0..<30 { let v = kernel(xs[i], xs[k]); xx += v; if i != k { xxOff += v } } }
        for j in 0..<45 { for k in 0..<45 { let v = kernel(ys[j], ys[k]); yy += v; if j != k { yyOff += v } } }
        for i in 0..<30 { for j in 0..<45 { xy += kernel(xs[i], ys[j]) } }
        let result = try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y)
        #expect(abs(result.biased - (xx / 900 + yy / 2025 - 2 * xy / 1350)) < 1e-13)
        #expect(abs(result.unbiased - (xxOff / 870 + yyOff / 1980 - 2 * xy / 1350)) < 1e-13)
    }

    @Test func medianHeuristicByHand() throws {
        // Points 0, 1, 3 on a line: distances 1, 3, 2; median 2.
        let points = Tensor<Double>(shape: [3, 1], scalars: [0, 1, 3])
        #expect(abs(try MaximumMeanDiscrepancy.medianBandwidth(points) - 2) < 1e-14)
        // Pooled: 0, 1 and 3, 7: distances 1, 3, 7, 2, 6, 4 → median (3 + 4)/2.
        let result = try MaximumMeanDiscrepancy().compute(Tensor(shape: [2, 1], scalars: [0, 1]), Tensor(shape: [2, 1], scalars: [3, 7]))
        #expect(abs(result.bandwidth - 3.5) < 1e-14)
        #expect(throws: RunError.self) { try MaximumMeanDiscrepancy(bandwidth: -1).compute(points, points) }
        #expect(throws: RunError.self) { try MaximumMeanDiscrepancy().compute(Tensor(shape: [1, 1], scalars: [2]), Tensor(shape: [1, 1], scalars: [2])) }
    }
}
