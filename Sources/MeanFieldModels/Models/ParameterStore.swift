import MeanFieldCore

/// All parameters of a model in one ordered store of named tensors. Optimizers, weight decay,
/// checkpoints and particle snapshots walk this one store (STYLE.md, "one flat parameter buffer
/// with named views"). A tensor of particles holds one layer's heads (or units) along its first
/// axis, so "all heads of layer ℓ" is that tensor.
public struct ParameterStore<Scalar: TensorScalar>: Sendable, Equatable {
    /// Parameter names in a fixed order (the order of creation).
    public private(set) var names: [String] = []
    private var tensors: [String: Tensor<Scalar>] = [:]
    /// For each name, the mean-field velocity scale s of theory §1.4, §1.6
    /// (``Parametrization/flowScale(layers:exponent:particlesPerLayer:)``): L^(2α−1)·M for a tensor of
    /// particles whose layer averages M of them (the flow moves it by −η(s ∇R + λ·c·θ)); 1 for
    /// parameters that are not particles (e.g. a classification readout).
    public private(set) var flowScales: [String: Double] = [:]
    /// For each name, the factor c = s·w of the decay term λ·c·θ in its update, w its weight in
    /// Q = R + (λ/2) Σ w|θ|² (theory §1.3; w = c/s): 1 for ordinary parameters and at α = 1,
    /// L^(2α−2) for particles (``Parametrization/decayFactor(layers:exponent:)``).
    public private(set) var decayFactors: [String: Double] = [:]

    public init() {}

    /// Adds (or replaces) a parameter with its mean-field velocity scale s and the factor c of its
    /// decay (1: the particles of α = 1, and ordinary parameters).
    public mutating func set(_ name: String, _ tensor: Tensor<Scalar>, flowScale: Double, decayFactor: Double = 1) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = tensor
        flowScales[name] = flowScale
        decayFactors[name] = decayFactor
    }

    /// The weight w = c/s of `name`'s |θ|² in Q = R + (λ/2) Σ w|θ|²: 1/(L·M) for particles
    /// (``Parametrization/penaltyWeight(layers:particlesPerLayer:)``), 1 for ordinary parameters.
    public func penaltyWeight(_ name: String) -> Double { decayFactors[name]! / flowScales[name]! }

    public subscript(name: String) -> Tensor<Scalar> {
        get {
            guard let tensor = tensors[name] else { fatalError("ParameterStore: no parameter named '\(name)'") }
            return tensor
        }
        set {
            guard let old = tensors[name], old.shape == newValue.shape else {
                fatalError("ParameterStore: cannot replace '\(name)' with shape \(newValue.shape)")
            }
            tensors[name] = newValue
        }
    }

    /// Whether `name` is an ordinary parameter rather than a tensor of particles: the embeddings
    /// (`embedding.*`) and the readout (`readout.*`) of every model here. Ordinary parameters are
    /// single maps with flow scale 1; ``OptimizerSettings/ordinaryRateScale`` sets their rate apart
    /// from the particles'.
    public static func isOrdinary(_ name: String) -> Bool {
        name.hasPrefix("embedding.") || name.hasPrefix("readout.")
    }

    /// Whether a parameter called `name` exists.
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// Total number of scalars.
    public var scalarCount: Int { names.reduce(0) { $0 + tensors[$1]!.count } }

    /// Σ|θ|² over all parameters.
    public var squaredNorm: Double {
        names.reduce(0.0) { total, name in
            tensors[name]!.scalars.reduce(total) { $0 + Double($1) * Double($1) }
        }
    }
}

extension ParameterStore {
    /// The same parameters (names, order, flow scales, decay factors) in another scalar type.
    public func converted<Other: TensorScalar>(to _: Other.Type) -> ParameterStore<Other> {
        var result = ParameterStore<Other>()
        for name in names {
            let tensor = self[name]
            let values: [Other] = tensor.scalars.map { Other(Double($0)) }
            result.set(name, Tensor(shape: tensor.shape, scalars: values), flowScale: flowScales[name] ?? 1, decayFactor: decayFactors[name] ?? 1)
        }
        return result
    }
}
