import MeanFieldCore
import MeanFieldModels

/// Risks to judge an in-context-regression risk R = ½·mean(ŷ − y)² by, computed on the same prompts:
/// the zero predictor's, and the Bayes-optimal predictor's — the best any model can do on the task.
///
/// The task draws w ~ N(0, I_d), x ~ N(0, I_d) and y = w·x + ε, ε ~ N(0, σ²) (``InContextRegression``),
/// so the best prediction of the query label from the prompt's N examples is x_q·ŵ with ŵ the
/// posterior mean of w: ridge regression on the examples with penalty σ², ŵ = (XᵀX + σ²I)⁻¹Xᵀy.
/// Noiseless with N ≥ d the examples determine w and the best risk is 0; noiseless with N < d it is
/// ½(d − N) in expectation (the unseen directions of w); with noise it is ½σ²(1 + E x_qᵀ(XᵀX + σ²I)⁻¹x_q).
public struct RegressionBaselines: Sendable, Equatable {
    /// Predicting 0: ½·mean y² (≈ (d + σ²)/2).
    public let zeroPredictor: Double
    /// The Bayes-optimal predictor's risk on these prompts.
    public let bayesOptimal: Double
    /// How many prompts both were measured on.
    public let prompts: Int

    /// The baselines on `tokens` `[B, D, N+1]` (examples' x in rows 0..<d, their labels in row d,
    /// the query last) with query labels `targets` `[B]`.
    public init<Scalar: TensorScalar>(task: InContextRegression, tokens: Tensor<Scalar>, targets: Tensor<Scalar>) {
        let d = task.inputDimension, n = task.examples, D = task.tokenDimension, columns = n + 1
        let count = targets.count
        // A vanishing ridge for noiseless prompts: least squares for N ≥ d, the minimum-norm fit (the limit of the posterior mean) for N < d.
        let ridge = max(task.noise * task.noise, 1e-10)
        var zero = 0.0, bayes = 0.0
        for b in 0..<count {
            func token(_ row: Int, _ column: Int) -> Double { Double(tokens.scalars[(b * D + row) * columns + column]) }
            var gram = [Double](repeating: 0, count: d * d), moment = [Double](repeating: 0, count: d)
            for i in 0..<n {
                for k in 0..<d {
                    moment[k] += token(k, i) * token(d, i)
                    for l in 0..<d { gram[k * d + l] += token(k, i) * token(l, i) }
                }
            }
            for k in 0..<d { gram[k * d + k] += ridge }
            let weights = (try? CholeskyFactorization(symmetric: gram, dimension: d).solve(moment)) ?? [Double](repeating: 0, count: d)
            let y = Double(targets.scalars[b])
            let prediction = (0..<d).reduce(0.0) { $0 + weights[$1] * token($1, n) }
            zero += 0.5 * y * y
            bayes += 0.5 * (prediction - y) * (prediction - y)
        }
        zeroPredictor = zero / Double(max(count, 1))
        bayesOptimal = bayes / Double(max(count, 1))
        prompts = count
    }

    /// The baselines on a run's evaluation prompts (the ones its `eval_R` is measured on), drawn
    /// in the run's scalar type `Scalar` as the run draws them.
    public init<Scalar: TensorScalar>(config: TrainConfig, as _: Scalar.Type) {
        let data = RegressionData<Scalar>(config: config)
        self.init(task: data.task, tokens: data.eval.tokens, targets: data.eval.targets)
    }
}
