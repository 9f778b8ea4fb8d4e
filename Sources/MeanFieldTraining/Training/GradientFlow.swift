import MeanFieldCore
import MeanFieldModels

/// Explicit Euler discretisation of the mean-field gradient flow (theory §1.4):
///   θ_{ℓ,j} ← θ_{ℓ,j} − η (L·M ∇_{θ_{ℓ,j}} R + λ θ_{ℓ,j}),
/// where L·M is the parameter's flow scale (``ParameterStore/flowScales``) and λ the weight decay.
/// The L·M factor makes particle velocities O(1), so one step advances mean-field time by η
/// whatever the width and depth. ∇R is the plain gradient of the unregularised risk; the λθ term is
/// the gradient of (λ/2)·Σ|θ|²/(L·M) scaled by L·M.
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
            let decay = 1 - Scalar(rate * weightDecay)
            let eta = Scalar(rate)
            theta.withUnsafeMutableBufferPointer { values in
                gradient.withUnsafeBufferPointer { grad in
                    for i in 0..<values.count { values[i] = decay * values[i] - eta * velocityScale * grad[i] }
                }
            }
            store[name] = theta
        }
    }

    /// The regularised objective Q = R + (λ/2)·Σ_θ |θ|² / (L·M_θ) (theory §1.3): the empirical
    /// (λ/2)∫|θ|² dρ.
    public func objective<Scalar: TensorScalar>(risk: Double, store: ParameterStore<Scalar>) -> Double {
        var penalty = 0.0
        for name in store.names {
            let squared = store[name].scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
            penalty += squared / store.flowScales[name]!
        }
        return risk + weightDecay / 2 * penalty
    }
}
