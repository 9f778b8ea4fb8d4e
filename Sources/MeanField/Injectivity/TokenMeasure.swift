import Foundation

/// One input of the attention layer seen as a measure of tokens (theory §2): either the empirical
/// measure of finitely many tokens z_1..z_N in R^d, or an exact Gaussian N(m, Σ).
public enum TokenMeasure: Sendable {
    /// N tokens, row-major N × d.
    case empirical(tokens: [Double], count: Int, dimension: Int)
    /// The Gaussian N(mean, covariance), covariance row-major d × d (symmetric).
    case gaussian(mean: [Double], covariance: [Double])

    /// The token dimension d.
    public var dimension: Int {
        switch self {
        case .empirical(_, _, let dimension): return dimension
        case .gaussian(let mean, _): return mean.count
        }
    }

    /// g(a) = log Σ_i exp(a · z_i) for tokens (theory §2, computed stably by ``LogSumExp``), or
    /// the Gaussian's cumulant generating function g(a) = a·m + ½ aᵀΣa (theory §2 closed form).
    public func logSumExp(direction a: [Double]) -> Double {
        switch self {
        case .empirical(let tokens, let count, let d):
            var scores = [Double](repeating: 0, count: count)
            for i in 0..<count { scores[i] = LogSumExp.dot(a, tokens, offset: i * d, length: d) }
            return LogSumExp.of(scores)
        case .gaussian(let mean, let covariance):
            let d = mean.count
            var value = LogSumExp.dot(a, mean, offset: 0, length: d)
            for r in 0..<d { value += 0.5 * a[r] * LogSumExp.dot(a, covariance, offset: r * d, length: d) }
            return value
        }
    }

    /// ∇²g(a): the covariance of the tokens under the a-tilted law w_i ∝ exp(a · z_i) (theory §2,
    /// the better-conditioned test), or Σ for an exact Gaussian. Row-major d × d.
    public func tiltedCovariance(direction a: [Double]) -> [Double] {
        switch self {
        case .empirical(let tokens, let count, let d):
            var scores = [Double](repeating: 0, count: count)
            for i in 0..<count { scores[i] = LogSumExp.dot(a, tokens, offset: i * d, length: d) }
            let weights = LogSumExp.softmax(scores)
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<count { for c in 0..<d { mean[c] += weights[i] * tokens[i * d + c] } }
            var covariance = [Double](repeating: 0, count: d * d)
            for i in 0..<count {
                for r in 0..<d {
                    let deviation = tokens[i * d + r] - mean[r]
                    for c in r..<d { covariance[r * d + c] += weights[i] * deviation * (tokens[i * d + c] - mean[c]) }
                }
            }
            for r in 0..<d { for c in 0..<r { covariance[r * d + c] = covariance[c * d + r] } }
            return covariance
        case .gaussian(_, let covariance):
            return covariance
        }
    }
}
