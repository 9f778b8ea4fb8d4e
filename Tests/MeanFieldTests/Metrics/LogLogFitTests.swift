// LogLogFit and StudentT (Sources/MeanField/Metrics/LogLogFit.swift, StudentT.swift) against table
// values and exact power laws.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct StudentTTests {
    @Test func quantilesMatchTheTable() {
        // Two-sided 95% critical values (any statistics table).
        let table: [(Double, Double)] = [(1, 12.7062047), (2, 4.3026527), (5, 2.5705818), (10, 2.2281389),
                                         (30, 2.0422725), (100, 1.9839715), (1_000_000, 1.9599663)]
        for (nu, expected) in table {
            let value = StudentT.quantile(0.975, degreesOfFreedom: nu)
            #expect(abs(value - expected) < 2e-6, "t_{0.975,\(nu)} = \(value), table \(expected)")
        }
        #expect(abs(StudentT.quantile(0.995, degreesOfFreedom: 3) - 5.8409093) < 2e-6)
        #expect(abs(StudentT.quantile(0.025, degreesOfFreedom: 5) + 2.5705818) < 2e-6)
        #expect(StudentT.quantile(0.5, degreesOfFreedom: 7) == 0)
    }

    @Test func cdfClosedFormsForOneAndTwoDegrees() {
        // ν = 1 is Cauchy: ½ + atan(t)/π; ν = 2: ½ + t / (2 sqrt(2 + t²)).
        for t in [-30.0, -2, -0.3, 0, 0.7, 4, 100] {
            #expect(abs(StudentT.cdf(t, degreesOfFreedom: 1) - (0.5 + atan(t) / .pi)) < 1e-13)
            #expect(abs(StudentT.cdf(t, degreesOfFreedom: 2) - (0.5 + t / (2 * (2 + t * t).squareRoot()))) < 1e-13)
        }
    }
}

@Suite struct LogLogFitTests {
    @Test func recoversAnExactPowerLaw() throws {
        let x = [8.0, 16, 32, 64, 128, 256]
        let y = x.map { 3.5 * pow($0, -0.5) }
        let fit = try LogLogFit.fit(x: x, y: y)
        #expect(abs(fit.slope + 0.5) < 1e-12)
        #expect(abs(fit.intercept - log(3.5)) < 1e-12)
        #expect(fit.halfWidth95 < 1e-10)
        #expect(fit.points == 6)
    }

    @Test func intervalMatchesAHandComputedCase() throws {
        // u = log x = 0, 1, 2 (x = 1, e, e²); v = log y = 0, 2, 3: slope 1.5, intercept 1/6,
        // residuals (−1/6, 1/3, −1/6), RSS = 1/6, Suu = 2, SE = sqrt(RSS/1/2) = sqrt(1/12).
        let e = M_E
        let fit = try LogLogFit.fit(x: [1, e, e * e], y: [1, exp(2), exp(3)])
        #expect(abs(fit.slope - 1.5) < 1e-12)
        #expect(abs(fit.intercept - 1.0 / 6) < 1e-12)
        #expect(abs(fit.halfWidth95 - 12.7062047 * (1.0 / 12).squareRoot()) < 1e-5)
    }

    @Test func intervalCoversTheTruthOnNoisyData() throws {
        // y = 2 x^{-1} · exp(0.1 ξ), ξ ~ N(0,1), fixed seed; 5 seeds × 8 widths.
        var random = PhiloxRandom(seed: 2026)
        let x = [4.0, 8, 16, 32, 64, 128, 256, 512]
        var seeds: [[Double]] = []
        for _ in 0..<5 {
            let noise: Tensor<Double> = random.normal([x.count])
            seeds.append(zip(x, noise.scalars).map { 2 / $0 * exp(0.1 * $1) })
        }
        let pooled = try LogLogFit.fit(x: x, y: seeds[0])
        #expect(pooled.covers(-1), "slope \(pooled.slope), CI \(pooled.confidence95)")
        #expect(pooled.halfWidth95 > 0.001 && pooled.halfWidth95 < 0.2)
        let across = try LogLogFit.acrossSeeds(x: x, ySeeds: seeds)
        #expect(across.covers(-1), "slope \(across.slope), CI \(across.confidence95)")
        #expect(across.halfWidth95 > 0.001 && across.halfWidth95 < 0.1)
        #expect(try LogLogFit.acrossSeeds(x: x, ySeeds: [seeds[2]]) == LogLogFit.fit(x: x, y: seeds[2]))
        // The seed mean of the slopes, by hand.
        let slopes = try seeds.map { try LogLogFit.fit(x: x, y: $0).slope }
        #expect(abs(across.slope - slopes.reduce(0, +) / 5) < 1e-14)
    }

    @Test func rejectsBadInput() {
        #expect(throws: RunError.self) { try LogLogFit.fit(x: [1, 2], y: [1, 2]) }
        #expect(throws: RunError.self) { try LogLogFit.fit(x: [1, 2, 3], y: [1, 0, 2]) }
        #expect(throws: RunError.self) { try LogLogFit.fit(x: [1, -2, 3], y: [1, 1, 2]) }
        #expect(throws: RunError.self) { try LogLogFit.fit(x: [2, 2, 2], y: [1, 3, 2]) }
        #expect(throws: RunError.self) { try LogLogFit.fit(x: [1, 2, 3], y: [1, 2]) }
        #expect(throws: RunError.self) { try LogLogFit.acrossSeeds(x: [1, 2, 3], ySeeds: []) }
        do {
            _ = try LogLogFit.acrossSeeds(x: [1, 2, 3], ySeeds: [[1, 2, 3], [1, .nan, 3]])
            Issue.record("a NaN in seed 1 should throw")
        } catch {
            #expect("\(error)".contains("seed 1"))
        }
    }
}
