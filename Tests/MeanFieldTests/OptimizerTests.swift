// Optimizers and schedules (Sources/MeanFieldTraining/Training/Optimizers.swift, LearningRateSchedule.swift)
// against closed forms: the mean-field conventions of theory §1.4 (gradient × L·M, decoupled λθ).
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// A one-parameter store: θ = `values`, flow scale `scale`.
private func store(_ values: [Double], scale: Double) -> ParameterStore<Double> {
    var store = ParameterStore<Double>()
    store.set("w", Tensor(shape: [values.count], scalars: values), flowScale: scale)
    return store
}

@Test func eulerOptimizerIsTheGradientFlowStep() {
    var viaFlow = store([1, -2, 0.5], scale: 6), viaOptimizer = viaFlow
    let gradient = Tensor<Double>(shape: [3], scalars: [0.3, -0.1, 2])
    GradientFlow(learningRate: 0.05, weightDecay: 0.3).step(&viaFlow, gradients: [gradient])
    var optimizer = EulerOptimizer<Double>(weightDecay: 0.3)
    optimizer.step(&viaOptimizer, gradients: [gradient], learningRate: 0.05)
    #expect(viaOptimizer == viaFlow)
    #expect(optimizer.updates == 1 && optimizer.stateTensors.isEmpty)
}

@Test func momentumFollowsTheHeavyBallRecurrence() {
    // Constant gradient g, scale s: the decay is part of the velocity (theory §1.4),
    // v_{k+1} = μ v_k + s g + λθ_k, θ_{k+1} = θ_k − η v_{k+1}; the legacy rule (checkpoints written
    // before the parametrization was recorded) kept v_{k+1} = μ v_k + s g, θ_{k+1} = (1 − ηλ) θ_k − η v_{k+1}.
    let (s, g, mu, eta, lambda) = (8.0, 0.25, 0.9, 0.01, 0.5)
    for parametrization in [Parametrization.standard, .legacy] {
        var parameters = store([2.0], scale: s)
        var optimizer = MomentumSGD(store: parameters, momentum: mu, weightDecay: lambda, parametrization: parametrization)
        var theta = 2.0, velocity = 0.0
        for k in 1...5 {
            optimizer.step(&parameters, gradients: [Tensor(shape: [1], scalars: [g])], learningRate: eta)
            if parametrization.decay == .inVelocity {
                velocity = mu * velocity + (s * g + lambda * theta)
                theta -= eta * velocity
            } else {
                velocity = mu * velocity + s * g
                theta = (1 - eta * lambda) * theta - eta * velocity
            }
            #expect(abs(parameters["w"][0] - theta) < 1e-14, "\(parametrization.decay) step \(k): \(parameters["w"][0]) vs \(theta)")
            #expect(abs(optimizer.stateTensors[0].tensor[0] - velocity) < 1e-13)
        }
        #expect(optimizer.stateTensors.map(\.name) == ["optimizer.velocity.w"])
        // A step advances mean-field time by η/(1−μ) (the legacy clock: η).
        #expect(abs(optimizer.meanFieldTime(ofStepAt: eta) - (parametrization == .legacy ? eta : eta / (1 - mu))) < 1e-15)
    }
}

@Test func momentumZeroIsEuler() {
    var a = store([1, 2, -3], scale: 4), b = a
    let gradient = Tensor<Double>(shape: [3], scalars: [0.5, -1, 0.25])
    var sgd = MomentumSGD(store: a, momentum: 0, weightDecay: 0.1)
    sgd.step(&a, gradients: [gradient], learningRate: 0.1)
    GradientFlow(learningRate: 0.1, weightDecay: 0.1).step(&b, gradients: [gradient])
    for (x, y) in zip(a["w"].scalars, b["w"].scalars) { #expect(abs(x - y) < 1e-15) }
}

@Test func adamWTwoStepsByHand() {
    let (s, beta1, beta2, epsilon, eta, lambda) = (3.0, 0.9, 0.999, 1e-8, 0.1, 0.2)
    var parameters = store([1.0, -0.5], scale: s)
    var optimizer = AdamW(store: parameters, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: lambda)
    let gradients: [[Double]] = [[0.2, -0.4], [-0.1, 0.3]]
    var theta = [1.0, -0.5], m = [0.0, 0.0], v = [0.0, 0.0]
    for (k, g) in gradients.enumerated() {
        optimizer.step(&parameters, gradients: [Tensor(shape: [2], scalars: g)], learningRate: eta)
        for i in 0..<2 {
            let scaled = s * g[i]
            m[i] = beta1 * m[i] + (1 - beta1) * scaled
            v[i] = beta2 * v[i] + (1 - beta2) * scaled * scaled
            let mHat = m[i] / (1 - pow(beta1, Double(k + 1))), vHat = v[i] / (1 - pow(beta2, Double(k + 1)))
            theta[i] -= eta * (mHat / (vHat.squareRoot() + epsilon) + lambda * theta[i])
            #expect(abs(parameters["w"][i] - theta[i]) < 1e-14, "update \(k + 1), entry \(i)")
        }
    }
    // The first step moves each entry by η·sign(g) (plus the decay), whatever the gradient's size.
    var first = store([0.0], scale: 100)
    var fresh = AdamW(store: first, weightDecay: 0)
    fresh.step(&first, gradients: [Tensor(shape: [1], scalars: [-7])], learningRate: 0.01)
    #expect(abs(first["w"][0] - 0.01) < 1e-12)
    #expect(optimizer.stateTensors.map(\.name) == ["optimizer.adam_m.w", "optimizer.adam_v.w"])
}

@Test func optimizerStateRestoresExactly() throws {
    let parameters = store([1, 2, 3], scale: 2)
    let gradient = Tensor<Double>(shape: [3], scalars: [0.1, -0.2, 0.3])
    for settings in [OptimizerSettings(kind: .sgd, weightDecay: 0.1), OptimizerSettings(kind: .adamw, weightDecay: 0.1)] {
        var original = settings.make(for: parameters)
        var a = parameters
        original.step(&a, gradients: [gradient], learningRate: 0.1)
        var copy = settings.make(for: parameters)
        try copy.restore(state: Dictionary(uniqueKeysWithValues: original.stateTensors.map { ($0.name, $0.tensor) }), updates: original.updates)
        var b = a
        original.step(&a, gradients: [gradient], learningRate: 0.1)
        copy.step(&b, gradients: [gradient], learningRate: 0.1)
        #expect(a == b, "\(settings.kind)")
        var empty = settings.make(for: parameters)
        #expect(throws: RunError.self) { try empty.restore(state: [:], updates: 1) }
    }
}

@Test(arguments: [OptimizerKind.euler, .sgd, .adamw])
func objectiveFallsWithSmallSteps(kind: OptimizerKind) {
    // theory §1.4: for small η the discrete flow decreases Q = R + (λ/2)Σ|θ|²/(L·M). Euler and
    // momentum SGD decrease it at every step here; AdamW (not a gradient flow) overall.
    let config = TransformerConfig(dimension: 4, heads: 3, ffnUnits: 3, layers: 2, initStd: 0.5)
    var engine = AutodiffEngine<Double>(config: config)
    var parameters: ParameterStore<Double> = MeanFieldTransformer(config: config).initialParameters(seed: 3)
    let task = InContextRegression(inputDimension: 3, examples: 6)
    var random = PhiloxRandom(seed: 5)
    let batch: (tokens: Tensor<Double>, targets: Tensor<Double>) = task.sample(16, random: &random)
    let settings = OptimizerSettings(kind: kind, weightDecay: 0.01, momentum: 0.5)
    var optimizer = settings.make(for: parameters)
    let penalty = GradientFlow(learningRate: 0, weightDecay: 0.01)
    let eta = 0.002
    var objectives: [Double] = []
    for _ in 0..<40 {
        let (risk, gradients) = engine.riskAndGradients(parameters, tokens: batch.tokens, targets: .regression(values: batch.targets, labelRow: 3))
        objectives.append(penalty.objective(risk: risk, store: parameters))
        optimizer.step(&parameters, gradients: gradients, learningRate: eta)
    }
    if kind == .adamw {
        #expect(objectives.last! < objectives.first!)
    } else {
        for (before, after) in zip(objectives, objectives.dropFirst()) { #expect(after < before, "Q rose from \(before) to \(after)") }
    }
}

@Test func scheduleShapes() {
    let constant = LearningRateSchedule(baseRate: 0.1, totalSteps: 100)
    #expect(constant.rate(atUpdate: 0) == 0.1 && constant.rate(atUpdate: 99) == 0.1)

    let warmup = LearningRateSchedule(shape: .warmup, baseRate: 0.1, warmupSteps: 4, totalSteps: 100)
    #expect([0, 1, 2, 3, 4, 50].map(warmup.rate(atUpdate:)).map { ($0 * 1e12).rounded() / 1e12 } == [0.025, 0.05, 0.075, 0.1, 0.1, 0.1])

    let cosine = LearningRateSchedule(shape: .cosine, baseRate: 0.1, minimumRate: 0.01, totalSteps: 101)
    #expect(cosine.rate(atUpdate: 0) == 0.1)
    #expect(abs(cosine.rate(atUpdate: 50) - 0.055) < 1e-12)       // halfway: (η + η_min)/2
    #expect(abs(cosine.rate(atUpdate: 100) - 0.01) < 1e-12)       // last update: η_min

    let step = LearningRateSchedule(shape: .step, baseRate: 1, decayEvery: 10, decayFactor: 0.5, totalSteps: 100)
    #expect([0, 9, 10, 19, 20, 35].map(step.rate(atUpdate:)) == [1, 1, 0.5, 0.5, 0.25, 0.125])

    let warmCosine = LearningRateSchedule(shape: .cosine, baseRate: 0.2, warmupSteps: 10, totalSteps: 20)
    #expect(abs(warmCosine.rate(atUpdate: 9) - 0.2) < 1e-15 && warmCosine.rate(atUpdate: 10) == 0.2)
    #expect(abs(warmCosine.rate(atUpdate: 19)) < 1e-15)
}

/// `--ordinary-lr-scale k`: the ordinary parameters (embedding.*, readout.*) step exactly as they
/// would at rate k·η, the particles exactly as at η — for all three optimizers, weight decay included.
@Test func ordinaryParametersStepAtTheirOwnRate() {
    let (k, eta, lambda) = (4.0, 0.05, 0.3)
    var mixed = ParameterStore<Double>()
    mixed.set("layer0.ffn.in", Tensor(shape: [2], scalars: [1, -2]), flowScale: 6)
    mixed.set("readout.weight", Tensor(shape: [2], scalars: [0.5, 0.25]), flowScale: 1)
    mixed.set("embedding.position", Tensor(shape: [1], scalars: [-1]), flowScale: 1)
    #expect(mixed.names.map(ParameterStore<Double>.isOrdinary) == [false, true, true])
    let gradients: [[Tensor<Double>]] = [
        [Tensor(shape: [2], scalars: [0.3, -0.1]), Tensor(shape: [2], scalars: [2, -1]), Tensor(shape: [1], scalars: [0.7])],
        [Tensor(shape: [2], scalars: [-0.2, 0.4]), Tensor(shape: [2], scalars: [1, 0.5]), Tensor(shape: [1], scalars: [-0.3])],
    ]
    for kind in OptimizerKind.allCases {
        var scaled = OptimizerSettings(kind: kind, weightDecay: lambda, ordinaryRateScale: k).make(for: mixed)
        var plain = OptimizerSettings(kind: kind, weightDecay: lambda).make(for: mixed)
        var plainFast = OptimizerSettings(kind: kind, weightDecay: lambda).make(for: mixed)
        var a = mixed, particlesAtEta = mixed, ordinaryAtKEta = mixed
        for step in gradients {
            scaled.step(&a, gradients: step, learningRate: eta)
            plain.step(&particlesAtEta, gradients: step, learningRate: eta)
            plainFast.step(&ordinaryAtKEta, gradients: step, learningRate: k * eta)
        }
        #expect(a["layer0.ffn.in"] == particlesAtEta["layer0.ffn.in"], "\(kind): particles")
        #expect(a["readout.weight"] == ordinaryAtKEta["readout.weight"], "\(kind): readout")
        #expect(a["embedding.position"] == ordinaryAtKEta["embedding.position"], "\(kind): embedding")
        #expect(a["readout.weight"] != particlesAtEta["readout.weight"], "\(kind): the scale must change something")
    }
}
