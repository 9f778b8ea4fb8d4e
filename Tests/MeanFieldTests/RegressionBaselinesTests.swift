// The demo's yardsticks (RegressionBaselines) against the task's closed forms: with w, x ~ N(0, I_d)
// and y = w·x + ε, predicting 0 costs ½E y² = (d + σ²)/2; the Bayes-optimal predictor costs 0
// (noiseless, N ≥ d), ½(d − N) (noiseless, N < d) or ½σ²(1 + E tr((XᵀX + σ²I)⁻¹)) ≈ ½σ²(1 + d/(N − d − 1)).
import MeanField
import MeanFieldCore
import Testing

struct RegressionBaselinesTests {
    private func baselines(d: Int, n: Int, noise: Double, prompts: Int = 4096) -> RegressionBaselines {
        var config = TrainConfig()
        (config.inputDim, config.examples, config.noise, config.evalSize, config.seed) = (d, n, noise, prompts, 3)
        return RegressionBaselines(config: config, as: Double.self)
    }

    @Test func theZeroPredictorCostsHalfTheLabelsSecondMoment() {
        // E y² = d + σ²; y² has variance 3(d² + 2d) − d² = 2d² + 6d (σ = 0), so the mean of ½y² over
        // 4096 prompts has standard error ½√(80/4096) = 0.070 at d = 5: 4 standard errors = 0.28.
        let noiseless = baselines(d: 5, n: 20, noise: 0)
        #expect(noiseless.prompts == 4096)
        #expect(abs(noiseless.zeroPredictor - 2.5) < 0.28, "\(noiseless.zeroPredictor)")
    }

    @Test func theBestRiskIsZeroWhenTheExamplesDetermineTheWeights() {
        #expect(baselines(d: 5, n: 20, noise: 0).bayesOptimal < 1e-12)
        #expect(baselines(d: 5, n: 5, noise: 0).bayesOptimal < 1e-6)
    }

    @Test func withTooFewExamplesTheUnseenDirectionsRemain() {
        // N = 3 < d = 5: ½ E|P⊥w|² = ½(d − N) = 1; (x_q·P⊥w)² has mean 2 and variance ≤ 3·(4 + 4) − 4 = 20,
        // so the standard error over 4096 prompts is ≤ ½√(20/4096) = 0.035: 4 of them = 0.14.
        let result = baselines(d: 5, n: 3, noise: 0)
        #expect(abs(result.bayesOptimal - 1.0) < 0.14, "\(result.bayesOptimal)")
    }

    @Test func withNoiseTheBestRiskIsThePosteriorVarianceAndBeatsLeastSquares() {
        // σ = 0.5, N = 20, d = 5: ½σ²(1 + E tr((XᵀX + σ²I)⁻¹)) with E (XᵀX)⁻¹ = I/(N − d − 1):
        // ½·0.25·(1 + 5/14) = 0.1696 (the ridge σ² lowers the trace by under 2%).
        let result = baselines(d: 5, n: 20, noise: 0.5)
        #expect(abs(result.bayesOptimal - 0.1696) < 0.012, "\(result.bayesOptimal)")
        #expect(abs(result.zeroPredictor - (5 + 0.25) / 2) < 0.3, "\(result.zeroPredictor)")
    }
}
