// Maximum mean discrepancy with a Gaussian kernel between particle clouds: one of the distances
// between the particle measures of a layer that the limit diagnostics track over mean-field time.
import Foundation
import MeanFieldCore
import MeanFieldKernels

/// The squared maximum mean discrepancy (Gretton, Borgwardt, Rasch, Schölkopf, Smola 2012, JMLR,
/// Eqs. 3 and 5) between point clouds `x` (`[n, p]`) and `y` (`[m, p]`) with the Gaussian kernel
/// `k(u, v) = exp(−|u − v|² / (2h²))`:
///
/// - biased (V-statistic): `MMD²_b = (1/n²) Σ_{i,i'} k(x_i, x_i') + (1/m²) Σ_{j,j'} k(y_j, y_j') − (2/(nm)) Σ_{i,j} k(x_i, y_j)`,
///   the exact MMD² between the two empirical measures, always ≥ 0;
/// - unbiased (U-statistic): the same with the diagonal terms `i = i'`, `j = j'` left out of the
///   first two sums and those divided by `n(n−1)` and `m(m−1)`; an unbiased estimate of the MMD² of
///   the laws the samples came from, and can be slightly negative.
public struct MaximumMeanDiscrepancy: Sendable, Codable, Equatable {
    /// The kernel bandwidth h; `nil`: the median heuristic over the pooled sample of each comparison
    /// (``medianBandwidth(_:)``). Fix it (e.g. from a reference cloud) to compare several runs on one scale.
    public var bandwidth: Double?

    public init(bandwidth: Double? = nil) { self.bandwidth = bandwidth }

    /// Both estimates and the bandwidth they used.
    public struct Result: Sendable, Codable, Equatable {
        /// `MMD²_b` (V-statistic), ≥ 0.
        public var biased: Double
        /// `MMD²_u` (U-statistic); `nan` when a cloud has a single point.
        public var unbiased: Double
        /// The kernel bandwidth h.
        public var bandwidth: Double
    }

    /// Both estimators of MMD² between `x` (`[n, p]`) and `y` (`[m, p]`).
    /// - Throws: ``RunError`` for bad clouds or a non-positive bandwidth.
    public func compute(_ x: Tensor<Double>, _ y: Tensor<Double>) throws -> Result {
        let (n, m, p) = try PointCloud.sizes(x, y, metric: "MMD")
        let h: Double
        if let bandwidth {
            h = bandwidth
        } else {
            h = try Self.medianBandwidth(Tensor(shape: [n + m, p], scalars: x.scalars + y.scalars))
        }
        guard h > 0, h.isFinite else {
            throw RunError("MMD: the kernel bandwidth must be positive, got \(h)\(bandwidth == nil ? " (median heuristic: all points coincide)" : "")")
        }
        // Σ_ij k(u_i, v_j) streamed (no n×m matrix): with potential 0 and ε = 2h², the soft-min
        // kernel gives out_i = −ε log Σ_j exp(−|u_i − v_j|²/ε), so Σ_j k_ij = exp(−out_i/ε).
        let epsilon = 2 * h * h
        let packedX = x.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: n, dimension: p) }
        let packedY = y.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: m, dimension: p) }
        func kernelSum(_ u: Tensor<Double>, _ v: PackedCloud) -> Double {
            let softMin = u.withUnsafeBufferPointer {
                StreamingSoftMin.softMin($0, count: u.shape[0], against: v, potential: [Double](repeating: 0, count: v.count),
                                         logWeight: 0, epsilon: epsilon)
            }
            return softMin.reduce(0) { $0 + Foundation.exp(-$1 / epsilon) }
        }
        let sumXX = kernelSum(x, packedX)
        let sumYY = kernelSum(y, packedY)
        let sumXY = kernelSum(x, packedY)
        let (dn, dm) = (Double(n), Double(m))
        let cross = 2 * sumXY / (dn * dm)
        let biased = sumXX / (dn * dn) + sumYY / (dm * dm) - cross
        // k(u, u) = 1: the diagonal of each within-cloud sum is exactly n (resp. m).
        let unbiased = n > 1 && m > 1 ? (sumXX - dn) / (dn * (dn - 1)) + (sumYY - dm) / (dm * (dm - 1)) - cross : .nan
        return Result(biased: Swift.max(0, biased), unbiased: unbiased, bandwidth: h)
    }

    /// MMD², biased (V-statistic, the default) or unbiased (U-statistic); see ``compute(_:_:)``.
    public func squared(_ x: Tensor<Double>, _ y: Tensor<Double>, unbiased: Bool = false) throws -> Double {
        let result = try compute(x, y)
        return unbiased ? result.unbiased : result.biased
    }

    /// The median heuristic (Gretton et al. 2012, §8): h = the median of the Euclidean distances
    /// `|z_i − z_j|`, i < j, over the points of `cloud`. Above 1,000 points an evenly strided
    /// subset of 1,000 points is used (deterministic; ~500,000 pairs).
    public static func medianBandwidth(_ cloud: Tensor<Double>) throws -> Double {
        let (count, p) = try PointCloud.size(cloud, metric: "MMD median bandwidth", name: "the cloud")
        guard count >= 2 else { throw RunError("MMD median bandwidth: needs at least 2 points, got \(count)") }
        var subset = cloud
        if count > 1_000 {
            let picked = (0..<1_000).map { $0 * count / 1_000 }
            subset = Tensor(shape: [picked.count, p], scalars: picked.flatMap { PointCloud.row(cloud, $0) })
        }
        let k = subset.shape[0]
        let cost = PointCloud.squaredDistances(subset, subset, same: true)
        var pairs: [Double] = []
        pairs.reserveCapacity(k * (k - 1) / 2)
        for i in 0..<k { for j in (i + 1)..<k { pairs.append(cost[i * k + j].squareRoot()) } }
        pairs.sort()
        let middle = pairs.count / 2
        let median = pairs.count % 2 == 1 ? pairs[middle] : 0.5 * (pairs[middle - 1] + pairs[middle])
        return median
    }
}
