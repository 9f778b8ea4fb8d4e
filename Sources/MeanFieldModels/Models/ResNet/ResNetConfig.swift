import MeanFieldCore

/// The residual block of a mean-field ResNet.
public enum ResNetBlock: String, Codable, Sendable, CaseIterable {
    /// Two-layer block (theory §4): F_ℓ(x) = (1/M) Σ_j u_{ℓ,j} σ(⟨w_{ℓ,j}, x⟩ + b_{ℓ,j}), every
    /// particle (u, w, b) trained and kept in its layer (conditional OT).
    case twoLayer = "two-layer"
    /// Random-feature block (theory §5): F_ℓ(x) = (1/r) Σ_k θ_{ℓ,k} φ(⟨ω_k, x⟩ + β_k), the features
    /// (Ω, β) random, fixed and shared by all layers; only the outer weights Θ_ℓ are trained, from 0.
    case randomFeatures = "random-features"
}

/// The feature map φ of a random-feature block (theory §5).
public enum RandomFeatureMap: String, Codable, Sendable, CaseIterable {
    /// φ(z) = √2 cos(z), ω ~ N(0, σ²I), β ~ U[0, 2π): E φφ′ = exp(−σ²|x − x′|²/2), the Gaussian kernel.
    case cos
    /// φ(z) = max(z, 0), ω ~ N(0, σ²I), β ~ N(0, σ²).
    case relu
}

/// A mean-field ResNet (theory §4, §5) on inputs x ∈ R^q:
///   X_0 = E x + e,  X_{ℓ+1} = X_ℓ + (1/L^α) F_ℓ(X_ℓ),  output = Rᵀ X_L + c,
/// with a trained linear embedding (E, e) into R^D, L residual blocks of M particles (or r random
/// features) and a linear readout to C outputs. α = 1 is the papers' 1/L step.
public struct ResNetConfig: Codable, Sendable, Equatable {
    /// Input dimension q (784 for a flattened 28×28 image).
    public var inputDimension: Int
    /// Dimension D of the residual stream.
    public var hiddenDimension: Int
    /// Depth L.
    public var layers: Int
    /// Particles per layer: M units of a two-layer block, or r random features.
    public var units: Int
    public var block: ResNetBlock
    /// σ of a two-layer block.
    public var activation: Activation
    /// φ of a random-feature block.
    public var featureMap: RandomFeatureMap
    /// Std σ of the random features ω (nil = 1/√D).
    public var featureScale: Double?
    /// Outputs C (1 for scalar regression, the classes for classification).
    public var outputs: Int
    /// Residual step 1/L^α.
    public var residualExponent: Double
    /// Std of the initial particles w, b, u (nil = 1/√D).
    public var initStd: Double?
    /// The flow scale and Q's weights of the particles (``Parametrization``; its head scaling does
    /// not apply).
    public var parametrization: Parametrization

    public init(inputDimension: Int, hiddenDimension: Int, layers: Int, units: Int, block: ResNetBlock = .twoLayer,
                activation: Activation = .relu, featureMap: RandomFeatureMap = .cos, featureScale: Double? = nil,
                outputs: Int, residualExponent: Double = 1, initStd: Double? = nil, parametrization: Parametrization = .standard) {
        self.inputDimension = inputDimension; self.hiddenDimension = hiddenDimension; self.layers = layers
        self.units = units; self.block = block; self.activation = activation; self.featureMap = featureMap
        self.featureScale = featureScale; self.outputs = outputs; self.residualExponent = residualExponent; self.initStd = initStd
        self.parametrization = parametrization
    }

    /// The step 1/L^α (``Parametrization/residualStep(layers:exponent:)``).
    public var residualStep: Double { Parametrization.residualStep(layers: layers, exponent: residualExponent) }

    /// The sum of a layer's M particles is divided by this: M (``Parametrization/unitDivisor(units:)``).
    public var unitDivisor: Double { Parametrization.unitDivisor(units: units) }

    /// Trained scalars: embedding, blocks, readout (in Double: a size from a flag never overflows here).
    public var parameterCount: Double {
        let D = Double(hiddenDimension), M = Double(units), outputs = Double(outputs)
        let block = self.block == .twoLayer ? M * (2 * D + 1) : M * D
        return D * Double(inputDimension) + D + Double(layers) * block + D * outputs + outputs
    }
}
