import Foundation
import MeanFieldCore

/// How the outer weights u move (theory §3).
public enum VarProMode: String, Codable, Sendable, CaseIterable {
    /// Variable projection: u = u*(θ) (the ridge solution, ``RidgeSolver``) at every step; gradient
    /// flow on θ of the reduced objective, whose gradient is ∂J/∂θ at u = u* (envelope theorem).
    case varpro
    /// Ordinary (single-timescale) gradient flow on (u, θ): u also takes gradient steps, with
    /// learning rate λ·m (mean-field time), so u and θ move on the same timescale.
    case twoTimescale = "two-timescale"
    /// Stochastic VarPro with momentum on u (theory §3): each step draws a minibatch, solves its ridge
    /// problem u*_batch and sets u ← β u + (1 − β) u*_batch, then takes the θ step on the minibatch.
    case stochasticVarPro = "stochastic-varpro"
}

/// The regulariser (1/(2m)) Σ_j (u_j − b)² of the objective (theory §3).
public enum VarProRegulariser: String, Codable, Sendable, CaseIterable {
    /// b = 0: |u|².
    case biased
    /// b = 1: (u − 1)², the teacher's outer weight, so a perfect student pays no penalty.
    case unbiased

    /// The centre b.
    public var centre: Double { self == .biased ? 0 : 1 }
}

/// The learning rate of u in two-timescale mode, in units of m (mean-field time): ρm with ρ = λ or 1.
/// The Hessian of m·J in u is K/λ + I, K = ΦᵀΦ/(nm), so u relaxes at rates ρ(κ/λ + 1) (κ the
/// eigenvalues of K) while θ moves at speed O(r/λ).
public enum VarProOuterRate: String, Codable, Sendable, CaseIterable {
    /// ρ = λ (theory §3): du/dτ = −((1/n) Σ_i r_i Φ_ij + λ(u_j − b)); u relaxes at rates κ + λ, i.e.
    /// on an O(1) timescale in the leading directions and O(1/λ) in the others.
    case lambda
    /// ρ = 1, the features' own learning rate m (plain gradient flow on both layers):
    /// du/dτ = −((1/λ)(1/n) Σ_i r_i Φ_ij + (u_j − b)); u relaxes at rates κ/λ + 1 (fast where κ ≫ λ),
    /// explicit Euler needs Δτ (κ_max/λ + 1) < 2.
    case same

    /// ρ: λ or 1.
    public func factor(lambda: Double) -> Double { self == .lambda ? lambda : 1 }
}

/// A teacher–student data set: n inputs (n×2) and targets y_i = f_teacher(x_i).
public struct VarProProblem: Sendable {
    public let features: VarProFeatureMap
    public let inputs: [Double]
    public let targets: [Double]
    public var samples: Int { targets.count }

    public init(features: VarProFeatureMap, inputs: [Double], targets: [Double]) {
        self.features = features
        self.inputs = inputs
        self.targets = targets
    }
}

/// One two-layer student f(x) = (1/m) Σ_j u_j φ(θ_j, x) trained in mean-field time (theory §3) on the
/// full batch, objective
///
///     J(u, θ) = (1/(2λ)) (1/n) Σ_i (f(x_i) − y_i)² + (1/(2m)) Σ_j (u_j − b)².
///
/// The feature flow is dθ_j/dτ = −m ∂J/∂θ_j = −(1/(λn)) Σ_i r_i u_j ∇_θ φ(θ_j, x_i), r = f − y,
/// explicit Euler with time step Δτ (learning rate m·Δτ on the particle gradient); τ = steps·Δτ.
/// In two-timescale mode u_j ← u_j − Δτ·ρm ∂J/∂u_j = u_j − Δτ(ρ/λ)((1/n) Σ_i r_i Φ_ij + λ(u_j − b)),
/// with ρ = λ (theory §3's rate) or ρ = 1 (``VarProOuterRate``); stochastic VarPro: see
/// ``VarProMode/stochasticVarPro``.
public struct VarProTrainer {
    public let problem: VarProProblem
    public let width: Int
    public let lambda: Double
    public let mode: VarProMode
    public let regulariser: VarProRegulariser
    public let timeStep: Double
    /// θ, m × p row-major (angles on the circle, points of [0, 1)² on the torus).
    public private(set) var parameters: [Double]
    /// u (in VarPro mode, the ridge solution of the last evaluation).
    public private(set) var outerWeights: [Double]
    public private(set) var stepsTaken = 0
    /// Two-timescale and stochastic VarPro: whether u starts at u*(θ₀) on all n inputs (same starting
    /// state and objective as VarPro; the default) rather than at the regulariser's centre b.
    public let startsAtRidgeSolution: Bool
    /// Two-timescale mode: u's learning rate, ``VarProOuterRate``.
    public let outerRate: VarProOuterRate
    /// Stochastic VarPro: minibatch size (≥ n: the whole data set in order, no sampling).
    public let batchSize: Int
    /// Stochastic VarPro: β of u ← β u + (1 − β) u*_batch.
    public let momentum: Double
    private var batchGenerator: PhiloxRandom

    /// What one evaluation of the current state measured.
    public struct State: Sendable {
        public var objective: Double
        /// ½ (1/n) Σ_i r_i² (the data term without 1/λ).
        public var risk: Double
        /// (1/(2m)) Σ_j (u_j − b)².
        public var penalty: Double
    }

    private var features: [Double] = []
    private var featureGradients: [Double] = []
    private var residuals: [Double] = []

    /// `initialParameters` m×p (e.g. ``uniformParameters(for:width:generator:)``). In two-timescale
    /// mode u starts at u*(θ₀) when `startsAtRidgeSolution`, else at the regulariser's centre b.
    public init(problem: VarProProblem, initialParameters: [Double], lambda: Double, mode: VarProMode,
                regulariser: VarProRegulariser, timeStep: Double, startsAtRidgeSolution: Bool = true,
                outerRate: VarProOuterRate = .lambda, batchSize: Int = 0, momentum: Double = 0.9,
                batchGenerator: PhiloxRandom = PhiloxRandom(seed: 0)) {
        self.startsAtRidgeSolution = startsAtRidgeSolution
        self.batchSize = batchSize > 0 ? batchSize : problem.samples
        self.momentum = momentum
        self.batchGenerator = batchGenerator
        self.outerRate = outerRate
        let p = problem.features.parameterDimension
        precondition(initialParameters.count % p == 0 && !initialParameters.isEmpty)
        self.problem = problem
        self.width = initialParameters.count / p
        self.lambda = lambda
        self.mode = mode
        self.regulariser = regulariser
        self.timeStep = timeStep
        self.parameters = initialParameters
        self.outerWeights = [Double](repeating: regulariser.centre, count: initialParameters.count / p)
    }

    /// m i.i.d. uniform parameters: angles on [0, 2π) or points of [0, 1)².
    public static func uniformParameters(for features: VarProFeatureMap, width: Int, generator: inout some RandomNumberGenerator) -> [Double] {
        let period = features.kind == .reluCircle ? 2 * Double.pi : 1
        return (0..<(width * features.parameterDimension)).map { _ in period * Double.random(in: 0..<1, using: &generator) }
    }

    /// Whether ``step()`` uses the state of an ``evaluate()`` at the current θ (deterministic modes);
    /// stochastic VarPro evaluates its own minibatch and needs ``evaluate()`` only for records.
    public var evaluatesEveryStep: Bool { mode != .stochasticVarPro }

    /// Mean-field time τ = steps · Δτ.
    public var meanFieldTime: Double { Double(stepsTaken) * timeStep }

    /// Evaluates features, (VarPro: solves for u*), residuals and the objective at the current θ.
    public mutating func evaluate() throws -> State {
        let n = problem.samples, m = width
        problem.features.evaluate(parameters: parameters, width: m, inputs: problem.inputs, samples: n,
                                  features: &features, gradients: &featureGradients)
        if mode == .varpro || (stepsTaken == 0 && startsAtRidgeSolution) {
            outerWeights = try RidgeSolver.solve(features: features, samples: n, width: m, targets: problem.targets,
                                                 ridge: lambda, centre: regulariser.centre)
        }
        if residuals.count != n { residuals = [Double](repeating: 0, count: n) }
        var squares = 0.0
        features.withUnsafeBufferPointer { phi in
            outerWeights.withUnsafeBufferPointer { u in
                for i in 0..<n {
                    var prediction = 0.0
                    for j in 0..<m { prediction += phi[i * m + j] * u[j] }
                    let r = prediction / Double(m) - problem.targets[i]
                    residuals[i] = r
                    squares += r * r
                }
            }
        }
        let risk = squares / (2 * Double(n))
        let b = regulariser.centre
        let penalty = outerWeights.reduce(0) { $0 + ($1 - b) * ($1 - b) } / (2 * Double(m))
        return State(objective: risk / lambda + penalty, risk: risk, penalty: penalty)
    }

    /// One Euler step: deterministic modes from the state of the last ``evaluate()`` (call it first);
    /// stochastic VarPro from a fresh minibatch (throws if its ridge solve fails).
    public mutating func step() throws {
        if mode == .stochasticVarPro {
            try stochasticStep()
            return
        }
        let n = problem.samples, m = width, p = problem.features.parameterDimension
        let b = regulariser.centre
        var parameterGradient = [Double](repeating: 0, count: m * p)
        var weightGradient = [Double](repeating: 0, count: m)
        featureGradients.withUnsafeBufferPointer { dphi in
            features.withUnsafeBufferPointer { phi in
                for i in 0..<n {
                    let r = residuals[i]
                    for j in 0..<m {
                        for k in 0..<p { parameterGradient[j * p + k] += r * dphi[k * n * m + i * m + j] }
                        weightGradient[j] += r * phi[i * m + j]
                    }
                }
            }
        }
        // dθ_j/dτ = −(1/(λn)) u_j Σ_i r_i ∇φ(θ_j, x_i)
        let thetaRate = timeStep / (lambda * Double(n))
        for j in 0..<m {
            for k in 0..<p { parameters[j * p + k] -= thetaRate * outerWeights[j] * parameterGradient[j * p + k] }
        }
        if mode == .twoTimescale {
            // du_j/dτ = −ρm ∂J/∂u_j = −(ρ/λ)((1/n) Σ_i r_i Φ_ij + λ(u_j − b)), ρ = λ or 1
            let rate = timeStep * outerRate.factor(lambda: lambda) / lambda
            for j in 0..<m {
                outerWeights[j] -= rate * (weightGradient[j] / Double(n) + lambda * (outerWeights[j] - b))
            }
        }
        problem.features.canonicalise(&parameters)
        stepsTaken += 1
    }

    /// Stochastic VarPro (theory §3): minibatch B (with replacement; the whole set when B ≥ n),
    /// u ← β u + (1 − β) u*_B, then dθ_j = −Δτ (1/(λB)) Σ_{i∈B} r_i u_j ∇φ(θ_j, x_i) with r on the batch.
    mutating func stochasticStep() throws {
        let n = problem.samples, m = width, p = problem.features.parameterDimension
        let indices = batchSize >= n ? Array(0..<n) : (0..<batchSize).map { _ in Int.random(in: 0..<n, using: &batchGenerator) }
        let count = indices.count
        var batchInputs = [Double](repeating: 0, count: 2 * count), batchTargets = [Double](repeating: 0, count: count)
        for (k, i) in indices.enumerated() {
            batchInputs[2 * k] = problem.inputs[2 * i]
            batchInputs[2 * k + 1] = problem.inputs[2 * i + 1]
            batchTargets[k] = problem.targets[i]
        }
        var phi: [Double] = [], dphi: [Double] = []
        problem.features.evaluate(parameters: parameters, width: m, inputs: batchInputs, samples: count, features: &phi, gradients: &dphi)
        let batchSolution = try RidgeSolver.solve(features: phi, samples: count, width: m, targets: batchTargets, ridge: lambda,
                                                  centre: regulariser.centre)
        for j in 0..<m { outerWeights[j] = momentum * outerWeights[j] + (1 - momentum) * batchSolution[j] }
        var parameterGradient = [Double](repeating: 0, count: m * p)
        for i in 0..<count {
            var prediction = 0.0
            for j in 0..<m { prediction += phi[i * m + j] * outerWeights[j] }
            let r = prediction / Double(m) - batchTargets[i]
            for j in 0..<m {
                for k in 0..<p { parameterGradient[j * p + k] += r * dphi[k * count * m + i * m + j] }
            }
        }
        let thetaRate = timeStep / (lambda * Double(count))
        for j in 0..<m {
            for k in 0..<p { parameters[j * p + k] -= thetaRate * outerWeights[j] * parameterGradient[j * p + k] }
        }
        problem.features.canonicalise(&parameters)
        stepsTaken += 1
    }
}
