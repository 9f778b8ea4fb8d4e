import Foundation

/// Numerically stable log-sum-exp and softmax in Double (theory §2: g_k(a) = log Σ_i exp(a · z_{k,i})).
/// The largest score is factored out, log Σ exp(s_i) = s_max + log Σ exp(s_i − s_max), so scores of
/// any magnitude (1e308 included) give a finite, exact-to-rounding result.
public enum LogSumExp {
    /// log Σ_i exp(scores_i); −∞ for no scores.
    public static func of(_ scores: [Double]) -> Double {
        guard let largest = scores.max() else { return -.infinity }
        guard largest.isFinite else { return largest }
        var sum = 0.0
        for score in scores { sum += exp(score - largest) }
        return largest + log(sum)
    }

    /// softmax(scores)_i = exp(s_i − LSE(s)), summing to 1.
    public static func softmax(_ scores: [Double]) -> [Double] {
        guard let largest = scores.max() else { return [] }
        var weights = scores.map { exp($0 - largest) }
        let sum = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= sum }
        return weights
    }

    /// Σ_c a_c · values[offset + c].
    static func dot(_ a: [Double], _ values: [Double], offset: Int, length: Int) -> Double {
        var sum = 0.0
        for c in 0..<length { sum += a[c] * values[offset + c] }
        return sum
    }
}
