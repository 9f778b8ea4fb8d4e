// Timings of the particle distances at the sizes the limit diagnostics need (~1,000 points ×
// ~1,000 dims).
// Not a timed test: it runs only when MEANFIELD_METRICS_TIMING is set, prints its figures and
// checks only that the results are finite. Run it on a release build:
//   MEANFIELD_METRICS_TIMING=1 swift test -c release --filter MetricsTimingTests
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct MetricsTimingTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MEANFIELD_METRICS_TIMING"] != nil))
    func distancesAtAThousandPointsAndDimensions() throws {
        let (n, p) = (1_000, 1_000)
        var random = PhiloxRandom(seed: 1)
        let a: Tensor<Double> = random.normal([n, p])
        let b: Tensor<Double> = random.normal([n, p], mean: 0.05, standardDeviation: 1.1)
        func time<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds
            let value = try body()
            print("\(label): \(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) s → \(value)")
            return value
        }
        // ε = 1% and 5% of E|X − X′|² ≈ 2p (ParticleDistances' default is 1%).
        for fraction in [0.01, 0.05] {
            let result = try time("Sinkhorn \(n)×\(p), ε = \(fraction)·2p") {
                try SinkhornDivergence(epsilon: fraction * 2 * Double(p)).divergence(a, b)
            }
            #expect(result.divergence.isFinite)
        }
        let sliced = try time("sliced W2, 128 directions") { try SlicedWasserstein.distance(a, b) }
        let mmd = try time("MMD² (median bandwidth)") { try MaximumMeanDiscrepancy().compute(a, b) }
        #expect(sliced.isFinite && mmd.biased.isFinite)
    }
}
