import Foundation

/// Every scaling factor of a mean-field model and of its training, in one value. The models, both
/// Transformer engines, the ResNets, ``ParameterStore``'s per-tensor scales, the objective Q, the
/// Euler flow and the optimizers read their factors from here; none recomputes one.
///
/// | factor | where | value |
/// |---|---|---|
/// | average of a layer's M heads | theory §1.2 | ``headAverage(heads:)``: 1/M (``HeadScaling``) |
/// | average of a layer's M′ units (and a ResNet layer's M particles) | §1.2, §4 | ``unitAverage(units:)``: 1/M′ |
/// | residual step | §1.2 | ``residualStep(layers:exponent:)``: 1/L^α |
/// | flow scale s of a tensor of particles | §1.4, §1.6 | ``flowScale(layers:exponent:particlesPerLayer:)``: L^(2α−1)·M |
/// | weight w of a particle's \|θ\|² in Q | §1.3 | ``penaltyWeight(layers:particlesPerLayer:)``: 1/(L·M) |
/// | decay factor c = s·w of a particle (λcθ in its update) | §1.4, §1.6 | ``decayFactor(layers:exponent:)``: L^(2α−2) |
/// | ordinary parameters (embeddings, readout) | §1.4 | s = w = c = 1 |
/// | where momentum SGD adds the decay | §1.4 | ``DecayPlacement``: inside the velocity |
/// | mean-field time per step | §1.4 | ``TimeConvention``: η (Euler, AdamW), η/(1−μ) (heavy ball) |
///
/// The flow of a tensor is dθ/dt = −s ∇_θ Q with Q = R + (λ/2) Σ_θ w |θ|², so the decay enters the
/// update as λ·s·w·θ (``decayFactor(layers:exponent:)``): λθ at α = 1, and the stationary
/// points are those of Q whatever s.
///
/// ``standard`` is this build's parametrization. ``legacy`` is the one every run trained with before
/// the parametrization was recorded (checkpoints without `parametrization` metadata): flow scale L·M
/// at every α, momentum SGD's decay after the velocity, t = Σ η for every optimizer. A run resumed
/// from such a checkpoint keeps it. The value is saved in every checkpoint (`parametrization`
/// metadata, ``jsonText``) and in `summary.json`, and shown in the run report.
public struct Parametrization: Codable, Sendable, Equatable {
    /// How a layer averages its M attention heads (theory §1.2). Only ``meanField`` is the model of
    /// the theory; the others exist to show what a mis-scaled model does (the coordinate check). The
    /// flow scale, Q's weights and the clock stay the mean-field ones whatever this is: only the
    /// model's factor changes.
    public enum HeadScaling: String, Codable, Sendable, CaseIterable {
        /// (1/M) Σ_j f(H; θ_j): the mean-field average (default).
        case meanField = "mean-field"
        /// (1/√M) Σ_j f(H; θ_j): the standard (NTK-like) scaling; the output grows like √M.
        case sqrt
        /// Σ_j f(H; θ_j): the plain sum; the output grows like M.
        case one
    }

    /// The flow scale s of a tensor of particles (theory §1.4, §1.6).
    public enum FlowScaleRule: String, Codable, Sendable, CaseIterable {
        /// s = L^(2α−1)·M: the initial dR/dt and the stable step do not depend on L or M at any α
        /// (theory §1.6). L·M at α = 1, M at α = ½.
        case depthBalanced = "depth-balanced"
        /// s = L·M at every α (the runs before this was recorded): at α = ½ dR/dt grows ∝ L.
        case layersTimesWidth = "layers-times-width"
    }

    /// Where momentum SGD adds the weight decay (theory §1.4).
    public enum DecayPlacement: String, Codable, Sendable, CaseIterable {
        /// v ← μv + s∇R + λswθ, θ ← θ − ηv: fixed points are the stationary points of Q.
        case inVelocity = "in-velocity"
        /// v ← μv + s∇R, θ ← θ − η(v + λθ) (before): fixed points of R + (1−μ)(λ/2)Σw|θ|², not of Q.
        case afterVelocity = "after-velocity"
    }

    /// How much mean-field time a step of rate η advances (theory §1.4).
    public enum TimeConvention: String, Codable, Sendable, CaseIterable {
        /// The flow's time: η per Euler step, η/(1−μ) per heavy-ball step (its steady-state
        /// displacement), η per AdamW step (a convention: AdamW follows no gradient flow of Q).
        case flow
        /// η per step for every optimizer (before; heavy ball's log then runs (1−μ) times slow).
        case rate
    }

    public var headScaling: HeadScaling
    public var flowScale: FlowScaleRule
    public var decay: DecayPlacement
    public var time: TimeConvention

    public init(headScaling: HeadScaling = .meanField, flowScale: FlowScaleRule = .depthBalanced,
                decay: DecayPlacement = .inVelocity, time: TimeConvention = .flow) {
        self.headScaling = headScaling
        self.flowScale = flowScale
        self.decay = decay
        self.time = time
    }

    /// This build's parametrization (mean-field heads).
    public static let standard = Parametrization()

    /// The parametrization of every run trained before it was recorded: s = L·M at every α, momentum
    /// SGD's decay after the velocity, t = Σ η. A checkpoint without `parametrization` metadata is read
    /// as this.
    public static let legacy = Parametrization(flowScale: .layersTimesWidth, decay: .afterVelocity, time: .rate)

    // MARK: The model's factors (theory §1.2)

    /// The residual step 1/L^α of every block (theory §1.2).
    public static func residualStep(layers: Int, exponent: Double) -> Double { 1 / pow(Double(layers), exponent) }

    /// The factor on the sum of a layer's M heads: 1/M, 1/√M or 1 (``HeadScaling``, theory §1.2).
    public func headAverage(heads: Int) -> Double { 1 / headDivisor(heads: heads) }

    /// What the sum of a layer's M heads is divided by: M, √M or 1 (the engines divide by it, so that
    /// the mean-field average is computed exactly as a mean).
    public func headDivisor(heads: Int) -> Double {
        switch headScaling {
        case .meanField: return Double(heads)
        case .sqrt: return Double(heads).squareRoot()
        case .one: return 1
        }
    }

    /// The factor on the sum of a layer's M′ feed-forward units, or of a ResNet layer's M particles:
    /// 1/M′ (theory §1.2, §4).
    public static func unitAverage(units: Int) -> Double { 1 / unitDivisor(units: units) }

    /// What the sum of a layer's M′ units is divided by: M′.
    public static func unitDivisor(units: Int) -> Double { Double(units) }

    // MARK: Training's factors (theory §1.3–1.4, §1.6)

    /// The flow scale s of a tensor of particles, M of them per layer in L layers with steps 1/L^α:
    /// L^(2α−1)·M (theory §1.6), or L·M for ``legacy``.
    public func flowScale(layers: Int, exponent: Double, particlesPerLayer: Int) -> Double {
        switch flowScale {
        case .depthBalanced: return pow(Double(layers), 2 * exponent - 1) * Double(particlesPerLayer)
        case .layersTimesWidth: return Double(layers * particlesPerLayer)
        }
    }

    /// The weight w of one particle's |θ|² in Q = R + (λ/2) Σ w|θ|²: its mass 1/(L·M) in the
    /// empirical measure, so that the sum is (λ/2)∫|θ|² dρ (theory §1.3). The same for every rule.
    public static func penaltyWeight(layers: Int, particlesPerLayer: Int) -> Double { 1 / Double(layers * particlesPerLayer) }

    /// Flow scale, Q-weight and decay factor of an ordinary parameter (an embedding, a readout): 1.
    public static let ordinaryFlowScale = 1.0, ordinaryPenaltyWeight = 1.0, ordinaryDecayFactor = 1.0

    /// The factor c of the decay term λ·c·θ in a particle's update: c = s·w, so that the update is
    /// −η·s·∇_θ Q (theory §1.4, §1.6), computed in closed form: L^(2α−1)·M / (L·M) = L^(2α−2) under
    /// ``FlowScaleRule/depthBalanced`` (exactly 1 at α = 1: λθ, as in the paper), 1 under ``legacy``.
    public func decayFactor(layers: Int, exponent: Double) -> Double {
        switch flowScale {
        case .depthBalanced: return pow(Double(layers), 2 * exponent - 2)
        case .layersTimesWidth: return 1
        }
    }

    /// The mean-field time a step of rate η advances with momentum μ (0 for Euler and AdamW):
    /// η/(1−μ) under ``TimeConvention/flow``, η under ``TimeConvention/rate``.
    public func timeOfStep(rate: Double, momentum: Double = 0) -> Double {
        switch time {
        case .flow: return rate / (1 - momentum)
        case .rate: return rate
        }
    }

    // MARK: Records

    /// The value as one line of JSON, snake_case keys (the checkpoint's `parametrization` metadata):
    /// `{"decay":"in-velocity","flow_scale":"depth-balanced","head_scaling":"mean-field","time":"flow"}`.
    public var jsonText: String {
        "{\"decay\":\"\(decay.rawValue)\",\"flow_scale\":\"\(flowScale.rawValue)\",\"head_scaling\":\"\(headScaling.rawValue)\",\"time\":\"\(time.rawValue)\"}"
    }

    /// Reads ``jsonText`` (or the same object inside a larger file); nil when `text` is not one.
    public init?(jsonText text: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        self.init(jsonObject: object)
    }

    /// From a decoded JSON object with ``jsonText``'s keys; nil when a key is missing or unknown.
    public init?(jsonObject object: [String: Any]) {
        guard let decay = (object["decay"] as? String).flatMap(DecayPlacement.init(rawValue:)),
              let flow = (object["flow_scale"] as? String).flatMap(FlowScaleRule.init(rawValue:)),
              let heads = (object["head_scaling"] as? String).flatMap(HeadScaling.init(rawValue:)),
              let time = (object["time"] as? String).flatMap(TimeConvention.init(rawValue:)) else { return nil }
        self.init(headScaling: heads, flowScale: flow, decay: decay, time: time)
    }

    enum CodingKeys: String, CodingKey {
        case headScaling = "head_scaling", flowScale = "flow_scale", decay, time
    }

    /// The factors of a model with L layers, steps 1/L^α, M heads and M′ units (0: none) as
    /// (name, value) rows for a report.
    public func rows(layers: Int, exponent: Double, heads: Int?, units: Int) -> [(String, String)] {
        func number(_ x: Double) -> String { String(format: "%.6g", x) }
        let L = layers
        var rows: [(String, String)] = [("residual step 1/L^α", number(Self.residualStep(layers: L, exponent: exponent)))]
        let rule = flowScale == .depthBalanced ? "L^(2α−1)·" : "L·"
        if let heads {
            let average = headScaling == .meanField ? "1/M" : headScaling == .sqrt ? "1/√M" : "1"
            rows.append(("head average (\(headScaling.rawValue))", "\(average) = \(number(headAverage(heads: heads)))"))
            rows.append(("flow scale of the heads", "\(rule)M = \(number(flowScale(layers: L, exponent: exponent, particlesPerLayer: heads)))"))
        }
        if units > 0 {
            let name = heads == nil ? "particles" : "units"
            rows.append(("\(name) average", "1/M′ = \(number(Self.unitAverage(units: units)))"))
            rows.append(("flow scale of the \(name)", "\(rule)M′ = \(number(flowScale(layers: L, exponent: exponent, particlesPerLayer: units)))"))
        }
        rows.append(("decay factor s·w of the particles", "\(flowScale == .depthBalanced ? "L^(2α−2)" : "1") = \(number(decayFactor(layers: L, exponent: exponent)))"))
        rows.append(("ordinary parameters", "flow scale 1, penalty weight 1"))
        rows.append(("momentum SGD's decay", decay == .inVelocity ? "inside the velocity (fixed points of Q)" : "after the velocity (legacy)"))
        rows.append(("mean-field time per step", time == .flow ? "η (Euler, AdamW by convention), η/(1−μ) (momentum SGD)" : "η for every optimizer (legacy)"))
        return rows
    }
}
