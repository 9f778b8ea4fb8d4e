// Student's t distribution: CDF and quantile, for the confidence intervals of LogLogFit.
// No dependencies: the CDF goes through the regularized incomplete beta function (continued
// fraction, modified Lentz), the quantile inverts it by bisection.
import Foundation

/// Student's t distribution with ν degrees of freedom (ν > 0, need not be an integer).
public enum StudentT {
    /// `P(T ≤ t)` for `T ~ t_ν`.
    ///
    /// Formula: with `x = ν / (ν + t²)`, `P(T ≤ t) = 1 − ½ I_x(ν/2, ½)` for `t ≥ 0` and
    /// `½ I_x(ν/2, ½)` for `t < 0`, where `I_x(a, b)` is the regularized incomplete beta function
    /// (Abramowitz & Stegun 26.7.1 / 26.5.27).
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "Student t needs positive degrees of freedom, got \(nu)")
        if t.isNaN { return .nan }
        if t == .infinity { return 1 }
        if t == -.infinity { return 0 }
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The `p`-quantile `t_{p,ν}`: the `t` with `P(T ≤ t) = p`, for `0 < p < 1`.
    ///
    /// Found by bracketing and bisection of ``cdf(_:degreesOfFreedom:)`` to about 1e-12 relative;
    /// e.g. `t_{0.975,1} = 12.7062`, `t_{0.975,5} = 2.5706`, `t_{0.975,30} = 2.0423`.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1, "Student t quantile needs 0 < p < 1, got \(p)")
        precondition(nu > 0, "Student t needs positive degrees of freedom, got \(nu)")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var low = 0.0, high = 1.0
        while cdf(high, degreesOfFreedom: nu) < p && high < 1e300 { low = high; high *= 2 }
        for _ in 0..<200 {
            let middle = 0.5 * (low + high)
            if cdf(middle, degreesOfFreedom: nu) < p { low = middle } else { high = middle }
            if high - low <= 1e-13 * high { break }
        }
        return 0.5 * (low + high)
    }

    /// The regularized incomplete beta function `I_x(a, b) = B(x; a, b) / B(a, b)`, `0 ≤ x ≤ 1`.
    ///
    /// Formula: `I_x(a,b) = x^a (1−x)^b / (a B(a,b)) · 1/(1+ d₁/(1+ d₂/(1+ …)))` (A&S 26.5.8), evaluated by the
    /// modified Lentz method; for `x > (a+1)/(a+b+2)` through the symmetry `I_x(a,b) = 1 − I_{1−x}(b,a)`
    /// so the fraction converges fast (Numerical Recipes §6.4).
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Foundation.log(x) + b * Foundation.log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return Foundation.exp(logFront) * betaContinuedFraction(x, a: a, b: b) / a
        }
        return 1 - Foundation.exp(logFront) * betaContinuedFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of A&S 26.5.8 by the modified Lentz method.
    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m), twoM = 2 * m
            // Even step: d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
            var coefficient = m * (b - m) * x / ((a + twoM - 1) * (a + twoM))
            d = 1 + coefficient * d; if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            // Odd step: d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
            coefficient = -(a + m) * (a + b + m) * x / ((a + twoM) * (a + twoM + 1))
            d = 1 + coefficient * d; if abs(d) < tiny { d = tiny }
            c = 1 + coefficient / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return result
    }
}
