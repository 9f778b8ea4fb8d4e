// Power-law fits on log-log axes, with a confidence interval on the slope of one curve or across
// seeds (one fit per seed, for error bars); the slopes the theory predicts are in theory §6, E1–E3:
// RMS function-space distance vs M ≈ −1/2, depth error vs L ≈ −1, final Q and R vs λ ≈ 1).
import Foundation

/// A least-squares fit of `log y = intercept + slope · log x` (natural logarithms), with a 95%
/// confidence interval on the slope.
///
/// Two ways to get one:
/// - ``fit(x:y:)``: one curve; the interval is the classical regression interval
///   `slope ± t_{0.975, n−2} · SE(slope)`, `SE = sqrt(RSS/(n−2) / Σ(u_i − ū)²)` with `u = log x`.
/// - ``acrossSeeds(x:ySeeds:)``: one curve per seed; the slope is the mean of the per-seed slopes
///   and the interval `mean ± t_{0.975, S−1} · sd/√S` over the S seeds (seeds are the independent
///   replicates, so their spread, not the residuals, is the error bar).
public struct LogLogFit: Sendable, Codable, Equatable {
    /// The fitted exponent: y ∝ x^slope.
    public var slope: Double
    /// The fitted `log y` at `x = 1` (natural log), so y ≈ exp(intercept) · x^slope.
    public var intercept: Double
    /// `[low, high]`: the 95% confidence interval for the slope. Equal to `[slope, slope]` when the
    /// fit is exact or no spread can be measured (two points, one seed with a perfect line).
    public var confidence95: [Double]
    /// How many (x, y) points entered the fit (per seed for ``acrossSeeds(x:ySeeds:)``).
    public var points: Int

    public init(slope: Double, intercept: Double, confidence95: [Double], points: Int) {
        self.slope = slope
        self.intercept = intercept
        self.confidence95 = confidence95
        self.points = points
    }

    /// Half the width of the 95% interval.
    public var halfWidth95: Double { (confidence95[1] - confidence95[0]) / 2 }

    /// Whether `value` lies inside the 95% interval (ends included).
    public func covers(_ value: Double) -> Bool { confidence95[0] <= value && value <= confidence95[1] }

    /// Ordinary least squares of `log y` on `log x`.
    ///
    /// With `u_i = log x_i`, `v_i = log y_i`: `slope = Σ(u−ū)(v−v̄) / Σ(u−ū)²`,
    /// `intercept = v̄ − slope·ū`, residual variance `s² = Σ(v − intercept − slope·u)² / (n−2)`,
    /// `SE(slope) = s / sqrt(Σ(u−ū)²)`, CI = `slope ± t_{0.975, n−2} · SE(slope)`.
    /// - Throws: ``RunError`` when fewer than 3 points are given, the arrays differ in length, a value
    ///   is not positive and finite, or all x are equal.
    public static func fit(x: [Double], y: [Double]) throws -> LogLogFit {
        guard x.count == y.count else {
            throw RunError("log-log fit: \(x.count) x values but \(y.count) y values; give one y per x")
        }
        guard x.count >= 3 else {
            throw RunError("log-log fit: needs at least 3 points for a slope and its confidence interval, got \(x.count)")
        }
        for (i, (xi, yi)) in zip(x, y).enumerated() {
            guard xi > 0, xi.isFinite, yi > 0, yi.isFinite else {
                throw RunError("log-log fit: point \(i) is (x: \(xi), y: \(yi)); both must be positive and finite to take logarithms")
            }
        }
        let u = x.map { Foundation.log($0) }, v = y.map { Foundation.log($0) }
        let n = Double(u.count)
        let uMean = u.reduce(0, +) / n, vMean = v.reduce(0, +) / n
        var suu = 0.0, suv = 0.0
        for (ui, vi) in zip(u, v) {
            suu += (ui - uMean) * (ui - uMean)
            suv += (ui - uMean) * (vi - vMean)
        }
        guard suu > 0 else {
            throw RunError("log-log fit: all \(u.count) x values are equal (\(x[0])); a slope needs at least two distinct x")
        }
        let slope = suv / suu
        let intercept = vMean - slope * uMean
        var rss = 0.0
        for (ui, vi) in zip(u, v) {
            let residual = vi - intercept - slope * ui
            rss += residual * residual
        }
        let dof = u.count - 2
        let standardError = (rss / Double(dof) / suu).squareRoot()
        let half = StudentT.quantile(0.975, degreesOfFreedom: Double(dof)) * standardError
        return LogLogFit(slope: slope, intercept: intercept, confidence95: [slope - half, slope + half], points: u.count)
    }

    /// One fit per seed (each row of `ySeeds` is one seed's y at the shared `x`), combined over seeds.
    ///
    /// `slope = (1/S) Σ_s slope_s`, `intercept = (1/S) Σ_s intercept_s`,
    /// CI = `slope ± t_{0.975, S−1} · sd / √S` with `sd` the sample standard deviation (divisor S−1)
    /// of the per-seed slopes. With a single seed this is ``fit(x:y:)`` on that seed.
    /// - Throws: ``RunError`` for no seeds, or whatever ``fit(x:y:)`` throws for a seed (named).
    public static func acrossSeeds(x: [Double], ySeeds: [[Double]]) throws -> LogLogFit {
        guard !ySeeds.isEmpty else { throw RunError("log-log fit across seeds: no seeds given") }
        if ySeeds.count == 1 { return try fit(x: x, y: ySeeds[0]) }
        var fits: [LogLogFit] = []
        for (seed, y) in ySeeds.enumerated() {
            do { fits.append(try fit(x: x, y: y)) } catch let error as RunError {
                throw RunError("seed \(seed): \(error.description)")
            }
        }
        let count = Double(fits.count)
        let slope = fits.map(\.slope).reduce(0, +) / count
        let intercept = fits.map(\.intercept).reduce(0, +) / count
        let variance = fits.map { ($0.slope - slope) * ($0.slope - slope) }.reduce(0, +) / (count - 1)
        let half = StudentT.quantile(0.975, degreesOfFreedom: count - 1) * (variance / count).squareRoot()
        return LogLogFit(slope: slope, intercept: intercept, confidence95: [slope - half, slope + half], points: x.count)
    }
}

/// What a fitted slope says about the theory's slope `s`: the one rule every report, the terminal
/// summary and diagnostics.json use (docs/reports.md, "How verdicts are decided").
///
/// The 95% interval `[low, high]` of the slope is read against two values: the theory's `s`, and an
/// `alternative` — the nearest slope that would mean the theory is wrong (0, "no dependence", for
/// the distances and λ fits; for the coordinate check, whose theory is flat (s = 0), the nearest
/// mis-scaling ±½ on the side of the fitted slope). The theory may be a band `s ± margin` (0 for
/// the fits; ¼ for the coordinate check, half-way to the ½ of a 1/√M mis-scaling, so that the
/// O(M^−1/2) finite-width corrections of a well-scaled layer do not count as a mis-scaling). The
/// interval "holds" `s` when it meets the band, and a value v when it contains it, both with a
/// tolerance of 10⁻⁹·max(1, |v|) on the ends (an exact power law gives a zero-width interval):
/// - **consistent**: the interval holds `s` and excludes the alternative;
/// - **inconsistent**: the interval misses `s` and is informative: it also excludes the
///   alternative (the data show a dependence, and not the theory's), or it is narrower than
///   |s − alternative| (so it could not have held both);
/// - **inconclusive**: anything else (it holds both, or it misses `s` but is too wide to tell).
/// An interval that is not two finite numbers with low ≤ high (NaN, ±∞, empty) is an error, not a
/// verdict.
public struct SlopeVerdict: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case consistent, inconsistent, inconclusive
    }
    public var kind: Kind
    public var slope: Double
    public var confidence95: [Double]
    public var theory: Double
    /// Half-width of the band around the theory's slope (0: the value itself).
    public var margin: Double
    public var alternative: Double
    /// Points per curve and independent curves (seeds) behind the interval.
    public var points: Int
    public var seeds: Int

    /// The verdict on `confidence95` against the theory's `theory`; `alternative` defaults to 0
    /// (for a theory slope of 0 pass the mis-scaling to test against, e.g. ±0.5).
    /// - Throws: ``RunError`` for an interval that is not `[low, high]` with finite low ≤ high, or a
    ///   theory equal to the alternative.
    public static func decide(slope: Double, confidence95: [Double], theory: Double, margin: Double = 0, alternative: Double = 0,
                              points: Int, seeds: Int = 1) throws -> SlopeVerdict {
        guard confidence95.count == 2 else {
            throw RunError("slope verdict: the 95% interval has \(confidence95.count) numbers, not [low, high]; refit")
        }
        let (low, high) = (confidence95[0], confidence95[1])
        guard low.isFinite, high.isFinite, slope.isFinite, theory.isFinite, alternative.isFinite else {
            throw RunError("slope verdict: slope \(slope), interval [\(low), \(high)] is not finite (NaN or ±∞); the fit failed, it has no verdict")
        }
        guard low <= high else {
            throw RunError("slope verdict: the interval [\(low), \(high)] is empty (low > high); the fit failed, it has no verdict")
        }
        guard margin >= 0, abs(theory - alternative) > margin else {
            throw RunError("slope verdict: the alternative \(alternative) lies inside the theory's band \(theory) ± \(margin); nothing to tell apart")
        }
        func contains(_ value: Double, within band: Double = 0) -> Bool {
            let tolerance = 1e-9 * max(1, abs(value))
            return low - tolerance <= value + band && value - band <= high + tolerance
        }
        let holdsTheory = contains(theory, within: margin)
        let kind: Kind
        if holdsTheory && !contains(alternative) {
            kind = .consistent
        } else if !holdsTheory && (!contains(alternative) || high - low < abs(theory - alternative)) {
            kind = .inconsistent
        } else {
            kind = .inconclusive
        }
        return SlopeVerdict(kind: kind, slope: slope, confidence95: [low, high], theory: theory, margin: margin, alternative: alternative,
                            points: points, seeds: seeds)
    }

    /// The verdict of a fit.
    public static func decide(_ fit: LogLogFit, theory: Double, margin: Double = 0, alternative: Double = 0, seeds: Int = 1) throws -> SlopeVerdict {
        try decide(slope: fit.slope, confidence95: fit.confidence95, theory: theory, margin: margin, alternative: alternative,
                   points: fit.points, seeds: seeds)
    }

    /// "n = 4 × 3 seeds" or "n = 5".
    public var sampleText: String { seeds > 1 ? "n = \(points) × \(seeds) seeds" : "n = \(points)" }

    /// One line: "consistent with the theory's −0.5 (slope −0.48, 95% CI [−0.55, −0.41], n = 4 × 3 seeds)".
    public var text: String {
        let number = { (value: Double) in String(format: "%.3g", value).replacingOccurrences(of: "-", with: "−") }
        let interval = "95% CI [\(number(confidence95[0])), \(number(confidence95[1]))], \(sampleText)"
        let theoryText = number(theory) + (margin > 0 ? " ± \(number(margin))" : "")
        switch kind {
        case .consistent:
            return "consistent with the theory's \(theoryText) (slope \(number(slope)), \(interval))"
        case .inconsistent:
            return "inconsistent with the theory's \(theoryText) (slope \(number(slope)), \(interval))"
        case .inconclusive:
            // Not consistent and not inconsistent means the interval holds the alternative (see the type).
            return "inconclusive about the theory's \(theoryText): the interval also holds \(number(alternative)) (slope \(number(slope)), \(interval))"
        }
    }
}
