import MeanFieldCore

/// The random-feature kernel of theory §5 and its limit: the expressivity check "λ_min of the
/// random-feature Gram matrix as the number of features r grows".
///
/// With r features (ω_k, β_k), K_r(x, x′) = (1/r) Σ_k φ(⟨ω_k, x⟩ + β_k) φ(⟨ω_k, x′⟩ + β_k) → K(x, x′) = E φφ′:
/// - φ = √2 cos, ω ~ N(0, σ²I), β ~ U[0, 2π): K(x, x′) = exp(−σ²|x − x′|²/2) (Rahimi–Recht);
/// - φ = ReLU, ω ~ N(0, σ²I), β ~ N(0, σ²): with a = (x, 1), K = σ²|a||a′| (sin θ + (π − θ) cos θ)/(2π),
///   θ the angle between a and a′ (the arc-cosine kernel of order 1, Cho & Saul 2009).
/// K_r has rank ≤ r, so λ_min(K_r) = 0 for r < n and rises toward λ_min(K) as r grows.
public enum RandomFeatureKernel {
    /// K_r = (1/r) Φ Φᵀ on `points` `[n, d]`.
    public static func gram(points: Tensor<Double>, omega: Tensor<Double>, phase: Tensor<Double>, map: RandomFeatureMap) -> Tensor<Double> {
        let z = points.matmul(omega, transposeOther: true) + phase
        let features = map == .cos ? z.map(.cos) * 2.0.squareRoot() : z.relu()
        return features.matmul(features, transposeOther: true) * (1 / Double(omega.shape[0]))
    }

    /// The limit kernel K on `points` `[n, d]` (closed forms above).
    public static func limitGram(points: Tensor<Double>, scale sigma: Double, map: RandomFeatureMap) -> Tensor<Double> {
        let n = points.shape[0], d = points.shape[1], x = points.scalars
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                var dot = 0.0, squaredI = 0.0, squaredK = 0.0, distance = 0.0
                for j in 0..<d {
                    let a = x[i * d + j], b = x[k * d + j]
                    dot += a * b; squaredI += a * a; squaredK += b * b; distance += (a - b) * (a - b)
                }
                switch map {
                case .cos:
                    values[i * n + k] = Double.exp(-sigma * sigma * distance / 2)
                case .relu:
                    let normI = (squaredI + 1).squareRoot(), normK = (squaredK + 1).squareRoot()
                    let cosine = max(-1, min(1, (dot + 1) / (normI * normK)))
                    let theta = Double.acos(cosine)
                    values[i * n + k] = sigma * sigma * normI * normK * (Double.sin(theta) + (Double.pi - theta) * cosine) / (2 * Double.pi)
                }
            }
        }
        return Tensor(shape: [n, n], scalars: values)
    }

    /// One row of the study: r features.
    public struct Point: Sendable, Codable, Equatable {
        public var features: Int
        public var lambdaMin: Double
        public var lambdaMax: Double
        /// max_{i,k} |K_r − K|.
        public var limitDeviation: Double
    }

    /// λ_min(K), λ_max(K) of the limit kernel and, for each r in `featureCounts`, the spectrum of K_r
    /// (features drawn afresh per r from `seed`).
    public static func study(points: Tensor<Double>, featureCounts: [Int], scale: Double, map: RandomFeatureMap, seed: UInt64)
        -> (limit: (lambdaMin: Double, lambdaMax: Double), points: [Point]) {
        let n = points.shape[0], d = points.shape[1]
        let limit = limitGram(points: points, scale: scale, map: map)
        let limitEigenvalues = SymmetricEigen.eigenvalues(of: limit.scalars, dimension: n)
        let rows = featureCounts.map { count -> Point in
            let drawn = MeanFieldResNet.randomFeatures(count: count, dimension: d, scale: scale, map: map, seed: seed)
            let gram = gram(points: points, omega: drawn.omega, phase: drawn.phase, map: map)
            let eigenvalues = SymmetricEigen.eigenvalues(of: gram.scalars, dimension: n)
            let deviation = zip(gram.scalars, limit.scalars).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
            return Point(features: count, lambdaMin: max(0, eigenvalues.min() ?? 0), lambdaMax: eigenvalues.max() ?? 0, limitDeviation: deviation)
        }
        return ((max(0, limitEigenvalues.min() ?? 0), limitEigenvalues.max() ?? 0), rows)
    }
}
