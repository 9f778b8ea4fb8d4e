// Debiased Sinkhorn divergence between particle clouds, in the log domain (issue 5, item 2;
// STYLE.md: "Sinkhorn in the log domain, report their own accuracy").
import Foundation
import MeanFieldCore

/// The debiased Sinkhorn divergence (Feydy, Séjourné, Vialard, Amari, Trouvé, Peyré 2019,
/// "Interpolating between OT and MMD using Sinkhorn divergences"; Genevay, Peyré, Cuturi 2018)
/// between two uniform point clouds `α = (1/n) Σ δ_{x_i}`, `β = (1/m) Σ δ_{y_j}` in R^p, with the
/// squared Euclidean cost `C(x, y) = |x − y|²`:
///
/// `S_ε(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) − ½ OT_ε(β, β)`,
/// `OT_ε(α, β) = min_π ⟨C, π⟩ + ε KL(π ‖ α⊗β)` over couplings π of α and β.
///
/// `S_ε ≥ 0`, `S_ε(α, α) = 0`, and `S_ε → W2²(α, β)` as `ε → 0` (so for β = α translated by v it is
/// ≈ |v|²); as `ε → ∞` it tends to an energy-distance MMD. ε has the units of the cost (a squared
/// distance).
///
/// Solver: the dual potentials `f, g` solve, at the optimum,
/// `f_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε)`, `g_j = −ε log Σ_i a_i exp((f_i − C_ij)/ε)`,
/// and `OT_ε(α, β) = ⟨α, f⟩ + ⟨β, g⟩` (Peyré & Cuturi, *Computational OT*, Prop. 4.4 / Remark 4.23).
/// The updates are evaluated with a stabilized log-sum-exp (max subtracted; terms below
/// `exp(−50)` of the largest are skipped, a relative change under 1e-21·n). The cross problem
/// alternates the two updates (Sinkhorn); the symmetric problems use the averaged update
/// `f ← ½(f + T_α(f))` (Feydy et al. 2019, §3.1), which converges fast. With ε-scaling the blur
/// starts at the squared diameter `max C` and is multiplied by `epsilonScaling` at each iteration
/// until it reaches ε (Schmitzer 2019; as in GeomLoss), then the iterations go on at ε until the
/// potentials move by at most `tolerance · max C` (sup norm) or `maxIterations` is reached.
public struct SinkhornDivergence: Sendable, Codable, Equatable {
    /// The entropic blur ε, in units of the cost |x − y|².
    public var epsilon: Double
    /// Stop when an iteration moves every potential by at most `tolerance · max_ij C_ij`.
    public var tolerance: Double
    /// Iteration cap per OT problem (the ε-scaling iterations included).
    public var maxIterations: Int
    /// Factor in (0, 1) by which ε shrinks per iteration from the squared diameter down to
    /// `epsilon`; `nil` runs every iteration at `epsilon` (plain Sinkhorn).
    public var epsilonScaling: Double?

    public init(epsilon: Double, tolerance: Double = 1e-9, maxIterations: Int = 2_000, epsilonScaling: Double? = 0.5) {
        self.epsilon = epsilon
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.epsilonScaling = epsilonScaling
    }

    /// The divergence and how accurately it was computed.
    public struct Result: Sendable, Codable, Equatable {
        /// `S_ε(α, β)`.
        public var divergence: Double
        /// `OT_ε(α, β)`, `OT_ε(α, α)`, `OT_ε(β, β)`.
        public var crossCost: Double, selfCostFirst: Double, selfCostSecond: Double
        /// The ε used.
        public var epsilon: Double
        /// Iterations used by the cross problem and by the two symmetric problems (ε-scaling included).
        public var iterations: [Int]
        /// Whether all three problems met the tolerance before the cap.
        public var converged: Bool
        /// The largest sup-norm potential change in the last iteration of the three problems, in
        /// units of the cost (a bound on how far the potentials are from their fixed point, roughly).
        public var lastChange: Double
        /// Total iterations over the three problems.
        public var totalIterations: Int { iterations.reduce(0, +) }
    }

    /// `S_ε(a, b)` for the clouds `a` (`[n, p]`) and `b` (`[m, p]`).
    /// - Throws: ``RunError`` for bad clouds (shape, emptiness, NaN) or settings (ε ≤ 0, scaling
    ///   outside (0, 1), no iterations).
    public func divergence(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Result {
        let (n, m, _) = try PointCloud.sizes(a, b, metric: "Sinkhorn divergence")
        guard epsilon > 0, epsilon.isFinite else { throw RunError("Sinkhorn divergence: ε must be positive, got \(epsilon)") }
        guard maxIterations > 0 else { throw RunError("Sinkhorn divergence: maxIterations must be ≥ 1, got \(maxIterations)") }
        if let factor = epsilonScaling, !(factor > 0 && factor < 1) {
            throw RunError("Sinkhorn divergence: ε-scaling factor must be in (0, 1), got \(factor)")
        }
        let costAB = PointCloud.squaredDistances(a, b)
        let costAA = PointCloud.squaredDistances(a, a, same: true)
        let costBB = PointCloud.squaredDistances(b, b, same: true)
        let cross = crossProblem(cost: costAB, n: n, m: m)
        let selfA = symmetricProblem(cost: costAA, n: n)
        let selfB = symmetricProblem(cost: costBB, n: m)
        // S = ⟨α, f − p_α⟩ + ⟨β, g − p_β⟩, with OT(α,α) = 2⟨α, p_α⟩.
        let crossValue = cross.f.reduce(0, +) / Double(n) + cross.g.reduce(0, +) / Double(m)
        let selfValueA = 2 * selfA.potential.reduce(0, +) / Double(n)
        let selfValueB = 2 * selfB.potential.reduce(0, +) / Double(m)
        return Result(divergence: crossValue - selfValueA / 2 - selfValueB / 2,
                      crossCost: crossValue, selfCostFirst: selfValueA, selfCostSecond: selfValueB,
                      epsilon: epsilon, iterations: [cross.iterations, selfA.iterations, selfB.iterations],
                      converged: cross.converged && selfA.converged && selfB.converged,
                      lastChange: Swift.max(cross.change, selfA.change, selfB.change))
    }

    /// The blur of each iteration: the ε-scaling ramp, then ε.
    private func blur(iteration: Int, diameter: Double) -> Double {
        guard let factor = epsilonScaling, diameter > epsilon else { return epsilon }
        return Swift.max(epsilon, diameter * Foundation.pow(factor, Double(iteration)))
    }

    /// Alternating log-domain Sinkhorn for `OT_ε(α, β)`; `cost` is `[n, m]` row-major.
    private func crossProblem(cost: [Double], n: Int, m: Int) -> (f: [Double], g: [Double], iterations: Int, converged: Bool, change: Double) {
        var transposed = [Double](repeating: 0, count: n * m)
        for i in 0..<n { for j in 0..<m { transposed[j * n + i] = cost[i * m + j] } }
        let diameter = cost.max() ?? 0
        let logA = -Foundation.log(Double(n)), logB = -Foundation.log(Double(m))
        var f = [Double](repeating: 0, count: n), g = [Double](repeating: 0, count: m)
        var change = Double.infinity, iteration = 0
        while iteration < maxIterations {
            let eps = blur(iteration: iteration, diameter: diameter)
            let newF = Self.softMin(cost: cost, rows: n, columns: m, potential: g, logWeight: logB, epsilon: eps)
            let newG = Self.softMin(cost: transposed, rows: m, columns: n, potential: newF, logWeight: logA, epsilon: eps)
            change = Swift.max(Self.supDistance(f, newF), Self.supDistance(g, newG))
            f = newF; g = newG
            iteration += 1
            if eps == epsilon && change <= tolerance * Swift.max(diameter, .leastNormalMagnitude) { break }
        }
        let converged = change <= tolerance * Swift.max(diameter, .leastNormalMagnitude)
        return (f, g, iteration, converged, change)
    }

    /// Averaged (symmetric) log-domain Sinkhorn for `OT_ε(α, α)`; returns the potential p with
    /// `OT_ε(α, α) = 2⟨α, p⟩`.
    private func symmetricProblem(cost: [Double], n: Int) -> (potential: [Double], iterations: Int, converged: Bool, change: Double) {
        let diameter = cost.max() ?? 0
        let logA = -Foundation.log(Double(n))
        var potential = [Double](repeating: 0, count: n)
        var change = Double.infinity, iteration = 0
        while iteration < maxIterations {
            let eps = blur(iteration: iteration, diameter: diameter)
            let update = Self.softMin(cost: cost, rows: n, columns: n, potential: potential, logWeight: logA, epsilon: eps)
            var next = potential
            for i in 0..<n { next[i] = 0.5 * (potential[i] + update[i]) }
            change = Self.supDistance(potential, next)
            potential = next
            iteration += 1
            if eps == epsilon && change <= tolerance * Swift.max(diameter, .leastNormalMagnitude) { break }
        }
        // One plain step from the averaged fixed point (the same fixed point; removes the averaging lag).
        if n > 0 {
            potential = Self.softMin(cost: cost, rows: n, columns: n, potential: potential, logWeight: logA, epsilon: epsilon)
        }
        let converged = change <= tolerance * Swift.max(diameter, .leastNormalMagnitude)
        return (potential, iteration, converged, change)
    }

    /// The soft-min `out_i = −ε log Σ_j exp(logWeight + (potential_j − C_ij)/ε)` over each row of
    /// a `[rows, columns]` cost, stabilized: the row maximum of the exponent is taken out, and terms
    /// more than 50 below it are skipped (each contributes < e^{−50} relative to a sum ≥ 1).
    static func softMin(cost: [Double], rows: Int, columns: Int, potential: [Double], logWeight: Double,
                        epsilon: Double) -> [Double] {
        var out = [Double](repeating: 0, count: rows)
        let inverse = 1 / epsilon
        cost.withUnsafeBufferPointer { c in
            potential.withUnsafeBufferPointer { g in
                var exponents = [Double](repeating: 0, count: columns)
                exponents.withUnsafeMutableBufferPointer { z in
                    for i in 0..<rows {
                        let base = i * columns
                        var largest = -Double.infinity
                        for j in 0..<columns {
                            let value = (g[j] - c[base + j]) * inverse
                            z[j] = value
                            if value > largest { largest = value }
                        }
                        let cutoff = largest - 50
                        var sum = 0.0
                        for j in 0..<columns where z[j] > cutoff { sum += Foundation.exp(z[j] - largest) }
                        out[i] = -epsilon * (logWeight + largest + Foundation.log(sum))
                    }
                }
            }
        }
        return out
    }

    private static func supDistance(_ u: [Double], _ v: [Double]) -> Double {
        var largest = 0.0
        for (x, y) in zip(u, v) { largest = Swift.max(largest, abs(x - y)) }
        return largest
    }
}
