import MeanFieldCore
import MeanFieldKernels

/// Which linear system the ridge projection solves: the m×m primal or the n×n dual (kernel) form.
public enum RidgeForm: String, Codable, Sendable, CaseIterable {
    /// (ΦᵀΦ/(nm) + λI_m) v = Φᵀr₀/n: cheaper when the width m is at most the sample count n.
    case primal
    /// v = Φᵀα with (ΦΦᵀ/(nm) + λI_n) α = r₀/n: cheaper when n < m.
    case dual

    /// The cheaper form for n samples and width m (dual when n < m, theory §3).
    public static func preferred(samples: Int, width: Int) -> RidgeForm { samples < width ? .dual : .primal }
}

/// The fast timescale of VarPro (theory §3): for fixed features, the outer weights minimise
///
///     J(u) = (1/(2λ)) (1/n) Σ_i (f(x_i) − y_i)² + (1/(2m)) Σ_j (u_j − b)²,   f(x) = (1/m) Σ_j u_j φ(θ_j, x),
///
/// with b = 0 for the biased regulariser |u|² and b = 1 for the unbiased (u − 1)². Setting ∂J/∂u = 0
/// and multiplying by λm gives the equation this solver uses (b = 0: theory §3's u* exactly):
///
///     (ΦᵀΦ/(nm) + λI_m)(u* − b) = Φᵀ(y − Φb/m)/n,
///
/// Φ the n×m feature matrix Φ_ij = φ(θ_j, x_i). The dual form follows from
/// (ΦᵀΦ/(nm) + λI)⁻¹Φᵀ = Φᵀ(ΦΦᵀ/(nm) + λI)⁻¹. Both are solved through a Cholesky factorization in
/// `Double`; the Gram matrix is one GEMM.
public enum RidgeSolver {
    /// u* for row-major `features` Φ (n×m) and `targets` y (n); `centre` is b; `form` nil picks
    /// ``RidgeForm/preferred(samples:width:)``. Throws when the system is not positive definite
    /// (λ ≤ 0 with dependent features).
    public static func solve(features: [Double], samples n: Int, width m: Int, targets: [Double], ridge lambda: Double,
                             centre: Double = 0, form: RidgeForm? = nil) throws -> [Double] {
        precondition(features.count == n * m && targets.count == n, "RidgeSolver: Φ must be n×m and y of length n")
        // r₀ = y − Φb/m: the part of the targets the centre b leaves unexplained.
        var shiftedTargets = targets
        if centre != 0 {
            for i in 0..<n {
                var rowSum = 0.0
                for j in 0..<m { rowSum += features[i * m + j] }
                shiftedTargets[i] -= centre * rowSum / Double(m)
            }
        }
        // Primal: A = ΦᵀΦ/(nm) + λI_m (m×m), A(u* − b) = Φᵀr₀/n.
        // Dual: B = ΦΦᵀ/(nm) + λI_n (n×n), α = B⁻¹ r₀/n, u* − b = Φᵀα.
        let dual = (form ?? .preferred(samples: n, width: m)) == .dual
        let size = dual ? n : m
        var gram = [Double](repeating: 0, count: size * size)
        features.withUnsafeBufferPointer { phi in
            gram.withUnsafeMutableBufferPointer { g in
                Gemm.gemm(transposeA: !dual, transposeB: dual, m: size, n: size, k: dual ? m : n, alpha: 1 / (Double(n) * Double(m)),
                          a: phi.baseAddress!, lda: m, b: phi.baseAddress!, ldb: m, beta: 0, c: g.baseAddress!, ldc: size)
            }
        }
        for i in 0..<size { gram[i * size + i] += lambda }
        let system = try CholeskyFactorization(symmetric: gram, dimension: size)
        /// Φᵀv (length m) for v of length n.
        func transposedProduct(_ v: [Double]) -> [Double] {
            var product = [Double](repeating: 0, count: m)
            for i in 0..<n {
                for j in 0..<m { product[j] += features[i * m + j] * v[i] }
            }
            return product
        }
        let reduced = shiftedTargets.map { $0 / Double(n) }
        var offset = dual ? transposedProduct(system.solve(reduced)) : system.solve(transposedProduct(reduced))
        for j in 0..<m { offset[j] += centre }
        return offset
    }
}
