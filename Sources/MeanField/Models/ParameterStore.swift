import MeanFieldCore

/// All parameters of a model in one ordered store of named tensors. Optimizers, weight decay,
/// checkpoints and particle snapshots walk this one store (STYLE.md, "one flat parameter buffer
/// with named views"). Each tensor holds the particles of one layer along its first axis.
public struct ParameterStore<Scalar: TensorScalar>: Sendable, Equatable {
    /// Parameter names in a fixed order (the order of creation).
    public private(set) var names: [String] = []
    private var tensors: [String: Tensor<Scalar>] = [:]
    /// For each name, the number of particles its layer averages over (M or M′): the mean-field
    /// gradient flow scales that parameter's gradient by L·(this count) (PAPERS §1.4).
    public private(set) var particleCounts: [String: Int] = [:]

    public init() {}

    /// Adds (or replaces) a parameter.
    public mutating func set(_ name: String, _ tensor: Tensor<Scalar>, particles: Int) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = tensor
        particleCounts[name] = particles
    }

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

    /// Total number of scalars.
    public var scalarCount: Int { names.reduce(0) { $0 + tensors[$1]!.count } }

    /// Σ|θ|² over all parameters.
    public var squaredNorm: Double {
        names.reduce(0.0) { total, name in
            tensors[name]!.scalars.reduce(total) { $0 + Double($1) * Double($1) }
        }
    }
}
