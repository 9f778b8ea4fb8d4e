import Foundation
import MeanFieldCore

/// The token-set families of the NTK injectivity check (theory §2, experiment E6) and what the
/// theory predicts for each: generic discrete, uniform and Gaussian-mixture sets are independent;
/// a set and its translate are dependent; single tokens (Diracs) always fail; exact Gaussians are
/// independent exactly when their covariances are (so K > d(d+1)/2 Gaussians never are).
public enum TokenFamily: String, CaseIterable, Codable, Sendable {
    case discrete
    case uniform
    case gaussianMixture = "gaussian-mixture"
    case gaussian
    case translated
    case dirac
    case fashionMNIST = "fashion-mnist"

    /// The closed-form expectation (theory §2) for `sets` inputs in dimension `dimension`.
    public func expectedInjective(sets: Int, dimension: Int, exactGaussians: Bool) -> Bool? {
        switch self {
        case .discrete, .uniform, .gaussianMixture: return true
        case .translated, .dirac: return false
        case .gaussian: return exactGaussians ? sets <= dimension * (dimension + 1) / 2 : true
        case .fashionMNIST: return nil
        }
    }

    /// A sentence stating the expectation, for the printout and the report.
    public var expectation: String {
        switch self {
        case .discrete, .uniform, .gaussianMixture: return "generic token sets: independent"
        case .translated: return "second half are translates of the first half: g differs by a·c, dependent"
        case .dirac: return "one token per set: g is affine, always fails"
        case .gaussian: return "exact Gaussians: independent iff the covariances are (K ≤ d(d+1)/2); sampled: generic"
        case .fashionMNIST: return "no closed form: dataset tokens"
        }
    }
}

/// Seeded generation of K token measures of one synthetic family (Philox streams, so the same seed
/// gives the same sets on any thread count). Tokens have unit scale per coordinate.
public enum TokenFamilyGenerator {
    /// `sets` measures of `tokens` tokens in R^`dimension` (Diracs: one token each). `exactGaussians`
    /// makes the `gaussian` family exact laws N(m, Σ) instead of `tokens` samples from them.
    public static func generate(_ family: TokenFamily, sets: Int, tokens: Int, dimension d: Int,
                                seed: UInt64, exactGaussians: Bool = false) throws -> [TokenMeasure] {
        var random = PhiloxRandom(seed: seed, stream: 0x6E746B)
        func normals(_ count: Int) -> [Double] { (random.normal([count]) as Tensor<Double>).scalars }
        func uniforms(_ count: Int, _ half: Double) -> [Double] { (random.uniform([count], low: -half, high: half) as Tensor<Double>).scalars }
        switch family {
        case .discrete:
            return (0..<sets).map { _ in .empirical(tokens: normals(tokens * d), count: tokens, dimension: d) }
        case .uniform:
            return (0..<sets).map { _ in .empirical(tokens: uniforms(tokens * d, 3.0.squareRoot()), count: tokens, dimension: d) }
        case .gaussianMixture:
            let components = 3
            return (0..<sets).map { _ in
                let centres = normals(components * d)
                let noise = normals(tokens * d)
                let choice = uniforms(tokens, 1).map { min(components - 1, Int(($0 + 1) / 2 * Double(components))) }
                var values = [Double](repeating: 0, count: tokens * d)
                for i in 0..<tokens { for c in 0..<d { values[i * d + c] = centres[choice[i] * d + c] + 0.3 * noise[i * d + c] } }
                return .empirical(tokens: values, count: tokens, dimension: d)
            }
        case .gaussian:
            return (0..<sets).map { _ in
                let mean = normals(d)
                let factor = normals(d * d).map { $0 / Double(d).squareRoot() }  // B, Σ = B Bᵀ
                if exactGaussians {
                    var covariance = [Double](repeating: 0, count: d * d)
                    for r in 0..<d { for c in 0..<d { for j in 0..<d { covariance[r * d + c] += factor[r * d + j] * factor[c * d + j] } } }
                    return .gaussian(mean: mean, covariance: covariance)
                }
                let noise = normals(tokens * d)
                var values = [Double](repeating: 0, count: tokens * d)
                for i in 0..<tokens { for r in 0..<d { values[i * d + r] = mean[r] + (0..<d).reduce(0) { $0 + factor[r * d + $1] * noise[i * d + $1] } } }
                return .empirical(tokens: values, count: tokens, dimension: d)
            }
        case .translated:
            let originals = (sets + 1) / 2
            let base = (0..<originals).map { _ in normals(tokens * d) }
            return (0..<sets).map { k in
                if k < originals { return .empirical(tokens: base[k], count: tokens, dimension: d) }
                let shift = normals(d)
                let source = base[k - originals]
                return .empirical(tokens: source.indices.map { source[$0] + shift[$0 % d] }, count: tokens, dimension: d)
            }
        case .dirac:
            return (0..<sets).map { _ in .empirical(tokens: normals(d), count: 1, dimension: d) }
        case .fashionMNIST:
            throw RunError("the fashion-mnist family reads a dataset; use FashionMNISTTokens.load")
        }
    }
}
