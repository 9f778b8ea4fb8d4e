// Sliced Wasserstein distance between particle clouds: one of the distances between the particle
// measures of a layer that the limit diagnostics track over mean-field time.
import Foundation
import MeanFieldCore

/// Sliced W2 between two point clouds in R^p (uniform empirical measures, rows of `[n, p]` and
/// `[m, p]` tensors; n and m may differ):
///
/// `SW2(α, β) = sqrt( (1/K) Σ_k W2²(P_{θ_k#} α, P_{θ_k#} β) )`, `P_θ(x) = ⟨θ, x⟩`,
///
/// a Monte Carlo estimate of `sqrt(∫_{S^{p−1}} W2²(P_θ#α, P_θ#β) dσ(θ))` (Rabin, Peyré, Delon,
/// Bernot 2011; Bonneel et al. 2015) with K directions drawn uniformly on the sphere S^{p−1}.
/// Each 1-D term is exact (``Wasserstein1D``). Note the normalization: for β = α translated by `v`,
/// every slice gives `⟨θ, v⟩²` and `E⟨θ, v⟩² = |v|²/p`, so `SW2 → |v|/√p`, not `|v|`.
public enum SlicedWasserstein {
    /// `K` directions uniform on S^{p−1} as the rows of a `[K, p]` tensor: Gaussian vectors from
    /// `PhiloxRandom(seed:)` normalized to unit length (a standard Gaussian is rotation-invariant, so
    /// its direction is uniform). The same seed gives the same directions, so two runs compared with
    /// the same seed see the same slices.
    public static func directions(count: Int, dimension: Int, seed: UInt64) -> Tensor<Double> {
        precondition(count > 0 && dimension > 0, "directions: need count > 0 and dimension > 0")
        var random = PhiloxRandom(seed: seed)
        var gaussian: [Double] = random.normal([count, dimension]).scalars
        for k in 0..<count {
            var norm = 0.0
            for i in 0..<dimension { norm += gaussian[k * dimension + i] * gaussian[k * dimension + i] }
            norm = norm.squareRoot()
            // A zero Gaussian vector has probability 0; fall back to the first axis.
            if norm == 0 { gaussian[k * dimension] = 1; norm = 1 }
            for i in 0..<dimension { gaussian[k * dimension + i] /= norm }
        }
        return Tensor(shape: [count, dimension], scalars: gaussian)
    }

    /// Sliced W2 over `directions` directions drawn by ``directions(count:dimension:seed:)``.
    /// - Throws: ``RunError`` for clouds that are not `[n, p]`, are empty, differ in p, or hold NaN.
    public static func distance(_ a: Tensor<Double>, _ b: Tensor<Double>, directions count: Int = 128,
                                seed: UInt64 = 0) throws -> Double {
        let (_, _, p) = try PointCloud.sizes(a, b, metric: "sliced Wasserstein")
        guard count > 0 else { throw RunError("sliced Wasserstein: needs at least one direction, got \(count)") }
        return try distance(a, b, directions: directions(count: count, dimension: p, seed: seed))
    }

    /// Sliced W2 over the given unit directions (rows of a `[K, p]` tensor).
    public static func distance(_ a: Tensor<Double>, _ b: Tensor<Double>, directions: Tensor<Double>) throws -> Double {
        let (n, m, p) = try PointCloud.sizes(a, b, metric: "sliced Wasserstein")
        guard directions.rank == 2, directions.shape[1] == p, directions.shape[0] > 0 else {
            throw RunError("sliced Wasserstein: directions must be [K, \(p)], got \(directions.shape)")
        }
        let count = directions.shape[0]
        // Projections: [n, K] and [m, K], one GEMM each.
        let projectedA = a.matmul(directions, transposeOther: true).scalars
        let projectedB = b.matmul(directions, transposeOther: true).scalars
        var total = 0.0
        for k in 0..<count {
            let sliceA = (0..<n).map { projectedA[$0 * count + k] }
            let sliceB = (0..<m).map { projectedB[$0 * count + k] }
            total += try Wasserstein1D.cost(sliceA, sliceB, order: 2)
        }
        return (total / Double(count)).squareRoot()
    }
}
