import Foundation
import MeanFieldCore
import MeanFieldModels

/// Which update rule a run uses. All three follow the mean-field conventions of theory §1.4
/// (s the flow scale, c = s·w the decay factor of ``ParameterStore``).
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// Explicit Euler gradient flow: θ ← θ − η (s ∇R + λcθ) (``GradientFlow``).
    case euler
    /// Heavy-ball SGD on the scaled gradient of Q: v ← μ v + s ∇R + λcθ; θ ← θ − η v.
    case sgd
    /// AdamW (Loshchilov & Hutter) on the scaled gradient with decoupled decay.
    case adamw
}

/// An update rule over a ``ParameterStore`` in the mean-field conventions of theory §1.4
/// (every factor from ``Parametrization``):
/// - the risk gradient of each parameter is multiplied by its flow scale s
///   (``ParameterStore/flowScales``, L^(2α−1)·M for particles, theory §1.6) before anything else;
/// - the weight decay is λcθ, c = s·w (``ParameterStore/decayFactors``, 1 at α = 1), s times the
///   gradient of the penalty of Q = R + (λ/2)∫|θ|² dρ; Euler and momentum SGD add it to the
///   gradient (their fixed points are Q's stationary points), AdamW decouples it;
/// - a step with learning rate η advances mean-field time by ``meanFieldTime(ofStepAt:)``: η for
///   Euler, η/(1−μ) for heavy ball, η for AdamW by convention (the trainer logs t = Σ of these);
/// - the ordinary parameters (``ParameterStore/isOrdinary(_:)``: embeddings and readout, not
///   particles) step with rate k·η, k = ``OptimizerSettings/ordinaryRateScale`` (default 1), so
///   their speed can be tuned without changing the particles' mean-field time.
///
/// Optimizer state lives in named tensors (``stateTensors``), so checkpoints walk it like the
/// parameters.
public protocol Optimizer<Scalar> {
    associatedtype Scalar: TensorScalar
    var kind: OptimizerKind { get }
    /// Weight decay λ.
    var weightDecay: Double { get }
    /// Updates taken so far (AdamW's bias correction uses it).
    var updates: Int { get }
    /// One update of every parameter of `store` with learning rate `learningRate`, given ∇R for
    /// each (same order as `store.names`).
    mutating func step(_ store: inout ParameterStore<Scalar>, gradients: [Tensor<Scalar>], learningRate: Double)
    /// The mean-field time one step at rate η advances (``Parametrization/timeOfStep(rate:momentum:)``).
    func meanFieldTime(ofStepAt rate: Double) -> Double
    /// The state tensors, named `optimizer.<slot>.<parameter>`, in a fixed order.
    var stateTensors: [(name: String, tensor: Tensor<Scalar>)] { get }
    /// Restores state saved from ``stateTensors`` and the update count. Fails with a one-line
    /// reason if a tensor is missing or has the wrong shape.
    mutating func restore(state: [String: Tensor<Scalar>], updates: Int) throws
}

/// Hyperparameters of the three optimizers (the unused ones are ignored).
public struct OptimizerSettings: Sendable, Equatable {
    public var kind: OptimizerKind
    public var weightDecay: Double
    /// Momentum μ of SGD.
    public var momentum: Double
    /// AdamW's β₁, β₂, ε.
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// Rate multiplier k of the ordinary (non-particle) parameters: they step with k·η.
    public var ordinaryRateScale: Double
    /// Where momentum SGD adds the decay and how much time a step advances (``Parametrization``).
    public var parametrization: Parametrization

    public init(kind: OptimizerKind, weightDecay: Double, momentum: Double = 0.9,
                beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, ordinaryRateScale: Double = 1,
                parametrization: Parametrization = .standard) {
        self.kind = kind
        self.parametrization = parametrization
        self.ordinaryRateScale = ordinaryRateScale
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// A fresh optimizer (zero state) for the parameters of `store`.
    public func make<Scalar: TensorScalar>(for store: ParameterStore<Scalar>) -> any Optimizer<Scalar> {
        switch kind {
        case .euler: return EulerOptimizer<Scalar>(weightDecay: weightDecay, ordinaryRateScale: ordinaryRateScale, parametrization: parametrization)
        case .sgd: return MomentumSGD(store: store, momentum: momentum, weightDecay: weightDecay, ordinaryRateScale: ordinaryRateScale,
                                      parametrization: parametrization)
        case .adamw: return AdamW(store: store, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                                  ordinaryRateScale: ordinaryRateScale, parametrization: parametrization)
        }
    }
}

/// The explicit Euler gradient flow of theory §1.4 (``GradientFlow``) behind the ``Optimizer``
/// protocol: θ ← θ − η (s ∇R + λcθ). No state. A step advances mean-field time by η.
public struct EulerOptimizer<Scalar: TensorScalar>: Optimizer {
    public var kind: OptimizerKind { .euler }
    public let weightDecay: Double
    /// Rate multiplier of the ordinary parameters (``OptimizerSettings/ordinaryRateScale``).
    public let ordinaryRateScale: Double
    public let parametrization: Parametrization
    public private(set) var updates = 0

    public init(weightDecay: Double, ordinaryRateScale: Double = 1, parametrization: Parametrization = .standard) {
        self.weightDecay = weightDecay
        self.ordinaryRateScale = ordinaryRateScale
        self.parametrization = parametrization
    }

    public func meanFieldTime(ofStepAt rate: Double) -> Double { parametrization.timeOfStep(rate: rate) }

    // Specialised: called through `any Optimizer`, the generic body ran Float arithmetic through
    // protocol witnesses (≈ 15% of a ViT training step under perf).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ store: inout ParameterStore<Scalar>, gradients: [Tensor<Scalar>], learningRate: Double) {
        GradientFlow(learningRate: learningRate, weightDecay: weightDecay, ordinaryRateScale: ordinaryRateScale).step(&store, gradients: gradients)
        updates += 1
    }

    public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] { [] }

    public mutating func restore(state: [String: Tensor<Scalar>], updates: Int) throws { self.updates = updates }
}

/// Heavy-ball SGD in mean-field conventions (theory §1.4): the decay is part of the gradient of Q,
///   v ← μ v + s ∇R + λcθ,   θ ← θ − η v,
/// so a fixed point (v = 0) has s ∇R + λcθ = 0: a stationary point of Q, whatever μ. In a steady
/// state θ moves η/(1−μ) per step along −(s ∇R + λcθ), so a step advances mean-field time by
/// η/(1−μ) and the run follows the Euler flow's clock. With μ = 0 it is the Euler flow.
///
/// A run resumed from a checkpoint of the ``Parametrization/legacy`` parametrization keeps the old
/// rule, v ← μ v + s ∇R, θ ← θ − η(v + λθ), whose fixed points are those of
/// R + (1−μ)(λ/2)∫|θ|² dρ (not of Q), and its clock t = Σ η.
public struct MomentumSGD<Scalar: TensorScalar>: Optimizer {
    public var kind: OptimizerKind { .sgd }
    public let momentum: Double
    public let weightDecay: Double
    /// Rate multiplier of the ordinary parameters (``OptimizerSettings/ordinaryRateScale``).
    public let ordinaryRateScale: Double
    public let parametrization: Parametrization
    public private(set) var updates = 0
    /// Velocity v per parameter, in `store.names` order.
    private var names: [String]
    private var velocities: [Tensor<Scalar>]

    public init(store: ParameterStore<Scalar>, momentum: Double, weightDecay: Double, ordinaryRateScale: Double = 1,
                parametrization: Parametrization = .standard) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.ordinaryRateScale = ordinaryRateScale
        self.parametrization = parametrization
        names = store.names
        velocities = store.names.map { Tensor.zeros(store[$0].shape) }
    }

    public func meanFieldTime(ofStepAt rate: Double) -> Double { parametrization.timeOfStep(rate: rate, momentum: momentum) }

    // Specialised: called through `any Optimizer`, the generic body ran Float arithmetic through
    // protocol witnesses (≈ 15% of a ViT training step under perf).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ store: inout ParameterStore<Scalar>, gradients: [Tensor<Scalar>], learningRate: Double) {
        precondition(gradients.count == names.count, "MomentumSGD: \(gradients.count) gradients for \(names.count) parameters")
        let mu = Scalar(momentum)
        let inVelocity = parametrization.decay == .inVelocity
        for (index, name) in names.enumerated() {
            let rate = ParameterStore<Scalar>.isOrdinary(name) ? learningRate * ordinaryRateScale : learningRate
            let eta = Scalar(rate), lambda = Scalar(weightDecay * store.decayFactors[name]!)
            let decay = 1 - Scalar(rate * weightDecay * store.decayFactors[name]!)
            let scale = Scalar(store.flowScales[name]!)
            var theta = store[name]
            theta.withUnsafeMutableBufferPointer { values in
                velocities[index].withUnsafeMutableBufferPointer { velocity in
                    gradients[index].withUnsafeBufferPointer { gradient in
                        if inVelocity {
                            for i in 0..<values.count {
                                velocity[i] = mu * velocity[i] + (scale * gradient[i] + lambda * values[i])
                                values[i] = values[i] - eta * velocity[i]
                            }
                        } else {
                            for i in 0..<values.count {
                                velocity[i] = mu * velocity[i] + scale * gradient[i]
                                values[i] = decay * values[i] - eta * velocity[i]
                            }
                        }
                    }
                }
            }
            store[name] = theta
        }
        updates += 1
    }

    public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] {
        zip(names, velocities).map { ("optimizer.velocity." + $0, $1) }
    }

    public mutating func restore(state: [String: Tensor<Scalar>], updates: Int) throws {
        velocities = try names.enumerated().map { index, name in
            try restoredTensor(state, "optimizer.velocity." + name, shape: velocities[index].shape)
        }
        self.updates = updates
    }
}

/// AdamW in mean-field conventions (theory §1.4): with g̃ = s ∇R and k = updates + 1,
///   m ← β₁ m + (1 − β₁) g̃,   v ← β₂ v + (1 − β₂) g̃²,
///   θ ← θ − η ( m̂ / (√v̂ + ε) + λcθ ),   m̂ = m / (1 − β₁ᵏ),  v̂ = v / (1 − β₂ᵏ).
/// Adam's update is invariant to the gradient's scale except against ε, so the flow scale s matters
/// only relative to ε. AdamW follows no gradient flow of Q: each coordinate moves about η per step
/// whatever M and L, and its fixed points are not Q's stationary points. Its clock t = Σ η is a
/// convention (the sum of its rates), not the time of theory §1.4; curves of different M or L are
/// on one time axis only as far as its normalised steps are.
public struct AdamW<Scalar: TensorScalar>: Optimizer {
    public var kind: OptimizerKind { .adamw }
    public let beta1: Double, beta2: Double, epsilon: Double
    public let weightDecay: Double
    /// Rate multiplier of the ordinary parameters (``OptimizerSettings/ordinaryRateScale``).
    public let ordinaryRateScale: Double
    public private(set) var updates = 0
    private var names: [String]
    private var firstMoments: [Tensor<Scalar>]
    private var secondMoments: [Tensor<Scalar>]

    public let parametrization: Parametrization

    public init(store: ParameterStore<Scalar>, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double,
                ordinaryRateScale: Double = 1, parametrization: Parametrization = .standard) {
        self.ordinaryRateScale = ordinaryRateScale
        self.parametrization = parametrization
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        names = store.names
        firstMoments = store.names.map { Tensor.zeros(store[$0].shape) }
        secondMoments = firstMoments
    }

    public func meanFieldTime(ofStepAt rate: Double) -> Double { parametrization.timeOfStep(rate: rate) }

    // Specialised: called through `any Optimizer`, the generic body ran Float arithmetic through
    // protocol witnesses (≈ 15% of a ViT training step under perf).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func step(_ store: inout ParameterStore<Scalar>, gradients: [Tensor<Scalar>], learningRate: Double) {
        precondition(gradients.count == names.count, "AdamW: \(gradients.count) gradients for \(names.count) parameters")
        let k = Double(updates + 1)
        let b1 = Scalar(beta1), b2 = Scalar(beta2), eps = Scalar(epsilon)
        let correction1 = Scalar(1 / (1 - pow(beta1, k))), correction2 = Scalar(1 / (1 - pow(beta2, k)))
        for (index, name) in names.enumerated() {
            let rate = ParameterStore<Scalar>.isOrdinary(name) ? learningRate * ordinaryRateScale : learningRate
            let eta = Scalar(rate), decay = 1 - Scalar(rate * weightDecay * store.decayFactors[name]!)
            let scale = Scalar(store.flowScales[name]!)
            var theta = store[name]
            theta.withUnsafeMutableBufferPointer { values in
                firstMoments[index].withUnsafeMutableBufferPointer { m in
                    secondMoments[index].withUnsafeMutableBufferPointer { v in
                        gradients[index].withUnsafeBufferPointer { gradient in
                            for i in 0..<values.count {
                                let g = scale * gradient[i]
                                m[i] = b1 * m[i] + (1 - b1) * g
                                v[i] = b2 * v[i] + (1 - b2) * g * g
                                let direction = (m[i] * correction1) / ((v[i] * correction2).squareRoot() + eps)
                                values[i] = decay * values[i] - eta * direction
                            }
                        }
                    }
                }
            }
            store[name] = theta
        }
        updates += 1
    }

    public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] {
        zip(names, firstMoments).map { ("optimizer.adam_m." + $0, $1) } + zip(names, secondMoments).map { ("optimizer.adam_v." + $0, $1) }
    }

    public mutating func restore(state: [String: Tensor<Scalar>], updates: Int) throws {
        firstMoments = try names.enumerated().map { try restoredTensor(state, "optimizer.adam_m." + $1, shape: firstMoments[$0].shape) }
        secondMoments = try names.enumerated().map { try restoredTensor(state, "optimizer.adam_v." + $1, shape: secondMoments[$0].shape) }
        self.updates = updates
    }
}

private func restoredTensor<Scalar: TensorScalar>(_ state: [String: Tensor<Scalar>], _ name: String, shape: [Int]) throws -> Tensor<Scalar> {
    guard let tensor = state[name] else { throw RunError("optimizer state '\(name)' is missing from the checkpoint; resume with the optimizer the run was started with") }
    guard tensor.shape == shape else { throw RunError("optimizer state '\(name)' has shape \(tensor.shape), expected \(shape)") }
    return tensor
}
