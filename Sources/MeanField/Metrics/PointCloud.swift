// Shared checks and the squared-distance matrix for the distances between particle measures (exact
// 1-D W2, sliced W2, Sinkhorn, MMD; theory §1.5: the empirical measure of a layer's particles is what
// the mean-field limit is about).
import MeanFieldCore

/// The point clouds every metric here takes: a `Tensor<Double>` of shape `[n, p]`, one point per row,
/// standing for the uniform empirical measure `(1/n) Σ_i δ_{x_i}` on R^p.
enum PointCloud {
    /// The `(points, dimension)` of a cloud, or a ``RunError`` naming the metric and the problem.
    static func size(_ cloud: Tensor<Double>, metric: String, name: String) throws -> (points: Int, dimension: Int) {
        guard cloud.rank == 2 else {
            throw RunError("\(metric): \(name) must be an [n, p] point cloud (one point per row), got shape \(cloud.shape)")
        }
        guard cloud.shape[0] > 0, cloud.shape[1] > 0 else {
            throw RunError("\(metric): \(name) is empty (shape \(cloud.shape))")
        }
        guard cloud.scalars.allSatisfy(\.isFinite) else {
            throw RunError("\(metric): \(name) holds NaN or infinite values; distances are undefined (did the run diverge?)")
        }
        return (cloud.shape[0], cloud.shape[1])
    }

    /// Sizes of two clouds that must live in the same R^p.
    static func sizes(_ a: Tensor<Double>, _ b: Tensor<Double>, metric: String) throws -> (n: Int, m: Int, dimension: Int) {
        let first = try size(a, metric: metric, name: "the first cloud")
        let second = try size(b, metric: metric, name: "the second cloud")
        guard first.dimension == second.dimension else {
            throw RunError("\(metric): the clouds live in different dimensions (\(first.dimension) vs \(second.dimension))")
        }
        return (first.points, second.points, first.dimension)
    }

    /// `|x_i|²` for each row.
    static func squaredNorms(_ cloud: Tensor<Double>) -> [Double] {
        let (n, p) = (cloud.shape[0], cloud.shape[1])
        return cloud.withUnsafeBufferPointer { x in
            (0..<n).map { i in
                var total = 0.0
                for k in 0..<p { total += x[i * p + k] * x[i * p + k] }
                return total
            }
        }
    }

    /// The `[n, m]` row-major matrix `C_ij = |a_i − b_j|²`, computed as `|a_i|² + |b_j|² − 2 a_i·b_j`
    /// (the cross term is one GEMM, optimized even in debug builds) and clamped at 0 against rounding.
    /// With `same: true` (a and b are the same cloud) the diagonal is set to exactly 0 and the matrix
    /// made exactly symmetric.
    /// Two equal clouds are always treated as `same` (so `S_ε(α, α)` and `MMD²(α, α)` come out exactly 0).
    static func squaredDistances(_ a: Tensor<Double>, _ b: Tensor<Double>, same: Bool = false) -> [Double] {
        let same = same || a == b
        let (n, m) = (a.shape[0], b.shape[0])
        let normsA = squaredNorms(a), normsB = same ? normsA : squaredNorms(b)
        var cost = a.matmul(b, transposeOther: true).scalars   // [n, m]: a_i · b_j
        cost.withUnsafeMutableBufferPointer { c in
            for i in 0..<n {
                for j in 0..<m { c[i * m + j] = Swift.max(0, normsA[i] + normsB[j] - 2 * c[i * m + j]) }
            }
            if same {
                for i in 0..<n {
                    c[i * m + i] = 0
                    for j in (i + 1)..<Swift.max(i + 1, m) { c[j * m + i] = c[i * m + j] }
                }
            }
        }
        return cost
    }

    /// Row `i` of a cloud as an array.
    static func row(_ cloud: Tensor<Double>, _ i: Int) -> [Double] {
        let p = cloud.shape[1]
        return Array(cloud.scalars[(i * p)..<((i + 1) * p)])
    }
}
