// The trainer of theory §3 on a small fixed-seed teacher–student problem: VarPro (u = u* every step)
// reaches a lower objective than single-timescale gradient flow at the same mean-field times, the
// reduced objective decreases, and the θ-gradient of the trainer matches central differences of the
// objective at fixed u.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct VarProTrainerTests {
    static func smallProblem(kind: VarProFeatureKind = .reluCircle, samples: Int = 48, seed: UInt64 = 5) -> VarProProblem {
        var generator = PhiloxRandom(seed: seed)
        let teacher = kind == .reluCircle ? VarProTeacher.circle(gamma: 20, grid: 128) : VarProTeacher.torus(concentration: 6, grid: 10, scale: 0.25)
        let inputs = VarProTeacher.inputs(for: kind, samples: samples, generator: &generator)
        return VarProProblem(features: teacher.features, inputs: inputs, targets: teacher.targets(inputs: inputs))
    }

    /// Objectives at τ = 0, every `every` steps, for one mode.
    static func objectives(_ mode: VarProMode, problem: VarProProblem, width: Int, lambda: Double, steps: Int, every: Int,
                           timeStep: Double) throws -> [Double] {
        var generator = PhiloxRandom(seed: 11)
        let initial = VarProTrainer.uniformParameters(for: problem.features, width: width, generator: &generator)
        var trainer = VarProTrainer(problem: problem, initialParameters: initial, lambda: lambda, mode: mode,
                                    regulariser: .unbiased, timeStep: timeStep, startsAtRidgeSolution: true)
        var values: [Double] = []
        for step in 0...steps {
            let state = try trainer.evaluate()
            if step % every == 0 { values.append(state.objective) }
            if step < steps { try trainer.step() }
        }
        return values
    }

    @Test func varProReducesTheObjectiveFasterThanSingleTimescale() throws {
        let problem = Self.smallProblem()
        let varpro = try Self.objectives(.varpro, problem: problem, width: 12, lambda: 0.05, steps: 120, every: 30, timeStep: 1.0 / 64)
        let single = try Self.objectives(.twoTimescale, problem: problem, width: 12, lambda: 0.05, steps: 120, every: 30, timeStep: 1.0 / 64)
        print("VarPro objectives \(varpro)\nsingle-timescale objectives \(single)")
        // Both start from the same (θ₀, u*(θ₀)), so the objectives agree at τ = 0.
        #expect(abs(varpro[0] - single[0]) < 1e-12)
        for (index, (fast, slow)) in zip(varpro, single).enumerated().dropFirst() {
            #expect(fast < slow, "record \(index): VarPro \(fast) vs single-timescale \(slow)")
        }
        #expect(varpro.last! < 0.5 * varpro.first!, "VarPro objectives \(varpro)")
    }

    /// The trainer's θ step equals −Δτ·m·∂J/∂θ at fixed u (two-timescale mode, one step), checked by
    /// central differences of J(u, θ) through a second trainer.
    @Test(arguments: VarProFeatureKind.allCases)
    func featureStepIsTheMeanFieldGradient(kind: VarProFeatureKind) throws {
        let problem = Self.smallProblem(kind: kind, samples: 16)
        var generator = PhiloxRandom(seed: 2)
        let width = 4, lambda = 0.3, timeStep = 1e-3
        let initial = VarProTrainer.uniformParameters(for: problem.features, width: width, generator: &generator)
        var trainer = VarProTrainer(problem: problem, initialParameters: initial, lambda: lambda, mode: .twoTimescale,
                                    regulariser: .unbiased, timeStep: timeStep, startsAtRidgeSolution: false)
        _ = try trainer.evaluate()
        try trainer.step()
        func objective(_ parameters: [Double]) throws -> Double {
            var probe = VarProTrainer(problem: problem, initialParameters: parameters, lambda: lambda, mode: .twoTimescale,
                                      regulariser: .unbiased, timeStep: timeStep, startsAtRidgeSolution: false)
            return try probe.evaluate().objective
        }
        let period = kind == .reluCircle ? 2 * Double.pi : 1
        for k in initial.indices {
            var plus = initial, minus = initial
            plus[k] += 1e-6
            minus[k] -= 1e-6
            let derivative = (try objective(plus) - objective(minus)) / 2e-6
            var moved = trainer.parameters[k] - initial[k]
            moved -= period * (moved / period).rounded()
            let expected = -timeStep * Double(width) * derivative
            #expect(abs(moved - expected) <= 1e-7 * max(1e-3, abs(expected)) + 1e-12, "\(kind) θ[\(k)]: moved \(moved), expected \(expected)")
        }
    }

    /// The two-timescale u step equals −Δτ·ρm·∂J/∂u (ρ = λ or 1/λ), ∂J/∂u by central differences.
    @Test(arguments: VarProOuterRate.allCases)
    func outerStepIsTheScaledGradient(rate: VarProOuterRate) throws {
        let problem = Self.smallProblem(samples: 16)
        var generator = PhiloxRandom(seed: 4)
        let width = 5, lambda = 0.2, timeStep = 1e-3
        let initial = VarProTrainer.uniformParameters(for: problem.features, width: width, generator: &generator)
        var trainer = VarProTrainer(problem: problem, initialParameters: initial, lambda: lambda, mode: .twoTimescale,
                                    regulariser: .biased, timeStep: timeStep, startsAtRidgeSolution: false, outerRate: rate)
        // From u = b = 0 the penalty's gradient vanishes; the data term drives u.
        let start = try trainer.evaluate()
        try trainer.step()
        // J(u) is quadratic in u: along e_j, ∂J/∂u_j = (J(εe_j) − J(−εe_j))/(2ε) exactly up to rounding.
        let n = problem.samples
        var phi: [Double] = [], unused: [Double] = []
        problem.features.evaluate(parameters: initial, width: width, inputs: problem.inputs, samples: n, features: &phi, gradients: &unused)
        func objective(_ u: [Double]) -> Double {
            var squares = 0.0
            for i in 0..<n {
                var prediction = 0.0
                for j in 0..<width { prediction += phi[i * width + j] * u[j] }
                squares += pow(prediction / Double(width) - problem.targets[i], 2)
            }
            return squares / (2 * Double(n) * lambda) + u.reduce(0) { $0 + $1 * $1 } / (2 * Double(width))
        }
        #expect(abs(objective([Double](repeating: 0, count: width)) - start.objective) < 1e-12)
        for j in 0..<width {
            var plus = [Double](repeating: 0, count: width), minus = plus
            plus[j] = 1e-4
            minus[j] = -1e-4
            let derivative = (objective(plus) - objective(minus)) / 2e-4
            let expected = -timeStep * rate.factor(lambda: lambda) * Double(width) * derivative
            #expect(abs(trainer.outerWeights[j] - expected) <= 1e-8 * abs(expected) + 1e-14, "u[\(j)]: \(trainer.outerWeights[j]) vs \(expected)")
        }
    }

    /// Stochastic VarPro with the whole data set as its batch and β = 0 is VarPro, step for step.
    @Test func stochasticVarProWithFullBatchIsVarPro() throws {
        let problem = Self.smallProblem(samples: 24)
        var generator = PhiloxRandom(seed: 8)
        let initial = VarProTrainer.uniformParameters(for: problem.features, width: 6, generator: &generator)
        var exact = VarProTrainer(problem: problem, initialParameters: initial, lambda: 0.05, mode: .varpro, regulariser: .unbiased, timeStep: 1.0 / 64)
        var stochastic = VarProTrainer(problem: problem, initialParameters: initial, lambda: 0.05, mode: .stochasticVarPro, regulariser: .unbiased,
                                       timeStep: 1.0 / 64, batchSize: 0, momentum: 0)
        #expect(!stochastic.evaluatesEveryStep && exact.evaluatesEveryStep)
        _ = try stochastic.evaluate()
        for _ in 0..<20 {
            _ = try exact.evaluate()
            try exact.step()
            try stochastic.step()
        }
        let difference = zip(exact.parameters, stochastic.parameters).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-12, "θ differ by \(difference)")
        // Both hold u*(θ) of the θ before the last step.
        let weightDifference = zip(exact.outerWeights, stochastic.outerWeights).map { abs($0 - $1) }.max()!
        #expect(weightDifference < 1e-10, "u differ by \(weightDifference)")
    }

    /// With minibatches of a quarter of the data and momentum 0.9 the objective still falls (fixed seed).
    @Test func stochasticVarProReducesTheObjective() throws {
        let problem = Self.smallProblem()
        var generator = PhiloxRandom(seed: 11)
        let initial = VarProTrainer.uniformParameters(for: problem.features, width: 12, generator: &generator)
        var trainer = VarProTrainer(problem: problem, initialParameters: initial, lambda: 0.05, mode: .stochasticVarPro, regulariser: .unbiased,
                                    timeStep: 1.0 / 64, batchSize: 12, momentum: 0.9, batchGenerator: PhiloxRandom(seed: 5))
        let start = try trainer.evaluate().objective
        for _ in 0..<120 { try trainer.step() }
        let end = try trainer.evaluate().objective
        #expect(end < 0.7 * start, "objective \(start) → \(end)")
    }
}
