// Debiased Sinkhorn divergence between particle clouds, in the log domain (one of the distances
// between a layer's particle measures that the limit diagnostics track; STYLE.md: "Sinkhorn in the
// log domain, report their own accuracy").
import Foundation
import MeanFieldCore
import MeanFieldKernels

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
/// The updates are evaluated by a streaming, stabilized log-sum-exp (`StreamingSoftMin` in
/// MeanFieldKernels: the squared distances are recomputed from the points in tiles, so memory is
/// O((n + m)·p), never the n×m cost matrix: two clouds of 10⁵ points in 64 dimensions peaked at 223 MiB
/// for the whole `bench metrics` process, where the matrix alone would be 75 GiB). The cross problem
/// alternates the two updates (Sinkhorn's iteration, 2–5× fewer iterations than averaging here); the
/// symmetric problems use the averaged update `p ← ½(p + T_α(p))` (Feydy et al. 2019, §3.1). With ε-scaling the blur
/// starts at the squared diameter `max C` and is multiplied by `epsilonScaling` at each iteration
/// until it reaches ε (Schmitzer 2019; as in GeomLoss), then the iterations go on at ε until the
/// plan's marginals are within `tolerance` (L1) or `maxIterations` is reached. Convergence at
/// intermediate ε (plans spread over clusters of points) can take hundreds of iterations; the value
/// is far less sensitive than the marginals (second order), and ``Result`` says how far it got.
public struct SinkhornDivergence: Sendable, Codable, Equatable {
    /// The entropic blur ε, in units of the cost |x − y|².
    public var epsilon: Double
    /// Stop when the plan's marginals are off by at most `tolerance` in L1 (summed over both
    /// marginals; a fraction of the unit mass).
    public var tolerance: Double
    /// Iteration cap per OT problem (the ε-scaling iterations included).
    public var maxIterations: Int
    /// Factor in (0, 1) by which ε shrinks per iteration from the squared diameter down to
    /// `epsilon`; `nil` runs every iteration at `epsilon` (plain Sinkhorn).
    public var epsilonScaling: Double?

    public init(epsilon: Double, tolerance: Double = 1e-5, maxIterations: Int = 1_000, epsilonScaling: Double? = 0.5) {
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
        /// The largest L1 marginal violation of the three plans at the last check (`infinity` when
        /// the cap was hit before the ε-scaling reached ε): the fraction of mass misplaced.
        public var marginalViolation: Double
        /// Total iterations over the three problems.
        public var totalIterations: Int { iterations.reduce(0, +) }
    }

    /// `S_ε(a, b)` for the clouds `a` (`[n, p]`) and `b` (`[m, p]`).
    /// - Throws: ``RunError`` for bad clouds (shape, emptiness, NaN) or settings (ε ≤ 0, scaling
    ///   outside (0, 1), no iterations).
    public func divergence(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Result {
        let (n, m, p) = try PointCloud.sizes(a, b, metric: "Sinkhorn divergence")
        guard epsilon > 0, epsilon.isFinite else { throw RunError("Sinkhorn divergence: ε must be positive, got \(epsilon)") }
        guard maxIterations > 0 else { throw RunError("Sinkhorn divergence: maxIterations must be ≥ 1, got \(maxIterations)") }
        if let factor = epsilonScaling, !(factor > 0 && factor < 1) {
            throw RunError("Sinkhorn divergence: ε-scaling factor must be in (0, 1), got \(factor)")
        }
        let identical = a == b
        let packedA = a.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: n, dimension: p) }
        let packedB = identical ? packedA : b.withUnsafeBufferPointer { StreamingSoftMin.pack($0, count: m, dimension: p) }
        let selfA = symmetricProblem(a, packedA)
        let selfB = identical ? selfA : symmetricProblem(b, packedB)
        // α = β: OT_ε(α, β) is the symmetric problem already solved, so S_ε(α, α) = 0 exactly.
        let cross = identical ? selfA : crossProblem(a, packedA, b, packedB)
        return Result(divergence: cross.value - selfA.value / 2 - selfB.value / 2,
                      crossCost: cross.value, selfCostFirst: selfA.value, selfCostSecond: selfB.value,
                      epsilon: epsilon, iterations: [cross.iterations, selfA.iterations, selfB.iterations],
                      converged: cross.converged && selfA.converged && selfB.converged,
                      marginalViolation: Swift.max(cross.violation, selfA.violation, selfB.violation))
    }

    /// The blur of each iteration: the ε-scaling ramp, then ε.
    private func blur(iteration: Int, diameter: Double) -> Double {
        guard let factor = epsilonScaling, diameter > epsilon else { return epsilon }
        return Swift.max(epsilon, diameter * Foundation.pow(factor, Double(iteration)))
    }

    /// Log-domain Sinkhorn for `OT_ε(α, β)`: alternating updates `f ← T_β(g)`, then `g ← T_α(f)`
    /// (after which the plan's second marginal is exact).
    ///
    /// Convergence: the L1 violation of the first marginal of the plan
    /// `π_ij = a_i b_j exp((f_i + g_j − C_ij)/ε)`, `Σ_i a_i |1 − exp((f_i − T_β(g)_i)/ε)|`, at most `tolerance`.
    private func crossProblem(_ a: Tensor<Double>, _ packedA: PackedCloud, _ b: Tensor<Double>, _ packedB: PackedCloud) -> Solution {
        let (n, m) = (packedA.count, packedB.count)
        let diameter = a.withUnsafeBufferPointer { StreamingSoftMin.largestSquaredDistance($0, count: n, against: packedB) }
        let logA = -Foundation.log(Double(n)), logB = -Foundation.log(Double(m))
        var f = [Double](repeating: 0, count: n), g = [Double](repeating: 0, count: m)
        var violation = Double.infinity, iteration = 0
        while iteration < maxIterations {
            let eps = blur(iteration: iteration, diameter: diameter)
            let updateF = a.withUnsafeBufferPointer {
                StreamingSoftMin.softMin($0, count: n, against: packedB, potential: g, logWeight: logB, epsilon: eps)
            }
            if eps == epsilon {
                violation = Self.marginalViolation(f, updateF, epsilon: eps)
                if violation <= tolerance { break }
            }
            f = updateF
            g = b.withUnsafeBufferPointer {
                StreamingSoftMin.softMin($0, count: m, against: packedA, potential: f, logWeight: logA, epsilon: eps)
            }
            iteration += 1
        }
        return Solution(value: Self.mean(f) + Self.mean(g), iterations: iteration,
                        converged: violation <= tolerance, violation: violation)
    }

    /// `OT_ε(α, α)` with one potential (f = g by symmetry) and the averaged update
    /// `p ← ½(p + T_α(p))`, then one plain step `p = T_α(p)`; `OT_ε(α, α) = 2⟨α, p⟩`. Converged when
    /// the L1 violation of both marginals, `2 Σ_i a_i |1 − exp((p_i − T_α(p)_i)/ε)|`, is at most `tolerance`.
    private func symmetricProblem(_ a: Tensor<Double>, _ packed: PackedCloud) -> Solution {
        let n = packed.count
        func softMin(_ potential: [Double], _ eps: Double) -> [Double] {
            a.withUnsafeBufferPointer {
                StreamingSoftMin.softMin($0, count: n, against: packed, potential: potential, logWeight: -Foundation.log(Double(n)), epsilon: eps)
            }
        }
        let diameter = a.withUnsafeBufferPointer { StreamingSoftMin.largestSquaredDistance($0, count: n, against: packed) }
        var potential = [Double](repeating: 0, count: n)
        var violation = Double.infinity, iteration = 0
        while iteration < maxIterations {
            let eps = blur(iteration: iteration, diameter: diameter)
            let update = softMin(potential, eps)
            iteration += 1
            if eps == epsilon {
                let half = Self.marginalViolation(potential, update, epsilon: eps)
                violation = half + half
                if violation <= tolerance { break }
            }
            for i in 0..<n { potential[i] = 0.5 * (potential[i] + update[i]) }
        }
        let final = softMin(potential, epsilon)
        return Solution(value: Self.mean(final) + Self.mean(final), iterations: iteration,
                        converged: violation <= tolerance, violation: violation)
    }

    /// One OT_ε problem's value and accuracy.
    private struct Solution {
        var value: Double, iterations: Int, converged: Bool, violation: Double
    }

    /// `(1/n) Σ_i |1 − exp((current_i − update_i)/ε)|`: the L1 error of one marginal of the plan.
    private static func marginalViolation(_ current: [Double], _ update: [Double], epsilon: Double) -> Double {
        var total = 0.0
        for (value, next) in zip(current, update) { total += abs(1 - Foundation.exp((value - next) / epsilon)) }
        return total / Double(current.count)
    }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
}
