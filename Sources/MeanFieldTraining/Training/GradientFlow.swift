import MeanFieldCore
import MeanFieldModels

/// Explicit Euler discretisation of the mean-field gradient flow dθ/dt = −s ∇_θ Q (theory §1.4):
///   θ ← θ − η (s ∇_θ R + λ·c·θ),   c = s·w,
/// where s is the tensor's flow scale (``ParameterStore/flowScales``: L^(2α−1)·M for particles,
/// theory §1.6), w its weight in Q (1/(L·M)) and c its decay factor (``ParameterStore/decayFactors``:
/// L^(2α−2), so the decay term is λθ at α = 1). The flow scale makes the function's speed independent of M and L,
/// so one step advances mean-field time by η whatever the width and depth. ∇R is the plain gradient
/// of the unregularised risk; the λ·c·θ term is s times the gradient of (λ/2)·w|θ|². The factors
/// come from ``Parametrization``.
public struct GradientFlow: Sendable {
    /// Time step η (mean-field time per step).
    public var learningRate: Double
    /// Weight decay λ.
    public var weightDecay: Double
    /// Rate multiplier k of the ordinary parameters (``ParameterStore/isOrdinary(_:)``): they step
    /// with k·η; 1 is the flow of theory §1.4.
    public var ordinaryRateScale: Double

    public init(learningRate: Double, weightDecay: Double, ordinaryRateScale: Double = 1) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.ordinaryRateScale = ordinaryRateScale
    }

    /// One Euler step on every parameter of `store`, given ∇R for each (same order as `store.names`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step<Scalar: TensorScalar>(_ store: inout ParameterStore<Scalar>, gradients: [Tensor<Scalar>]) {
        for (name, gradient) in zip(store.names, gradients) {
            let velocityScale = Scalar(store.flowScales[name]!)
            var theta = store[name]
            let rate = ParameterStore<Scalar>.isOrdinary(name) ? learningRate * ordinaryRateScale : learningRate
            let decay = 1 - Scalar(rate * weightDecay * store.decayFactors[name]!)
            let eta = Scalar(rate)
            theta.withUnsafeMutableBufferPointer { values in
                gradient.withUnsafeBufferPointer { grad in
                    for i in 0..<values.count { values[i] = decay * values[i] - eta * velocityScale * grad[i] }
                }
            }
            store[name] = theta
        }
    }

    /// The regularised objective Q = R + (λ/2)·Σ_θ w_θ |θ|² (theory §1.3), w = c/s the tensor's
    /// ``ParameterStore/penaltyWeight(_:)`` (1/(L·M) for particles): the empirical (λ/2)∫|θ|² dρ.
    public func objective<Scalar: TensorScalar>(risk: Double, store: ParameterStore<Scalar>) -> Double {
        var penalty = 0.0
        for name in store.names {
            let squared = store[name].scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
            penalty += squared / store.flowScales[name]! * store.decayFactors[name]!
        }
        return risk + weightDecay / 2 * penalty
    }
}
