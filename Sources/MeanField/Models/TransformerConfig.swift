import Foundation
import MeanFieldCore

/// Score map of an attention head (PAPERS §1.2).
public enum ScoreMap: String, Codable, Sendable, CaseIterable {
    /// softmax over keys of Hᵀ W_KQ H / τ (default).
    case softmax
    /// Linear attention: the raw scores Hᵀ W_KQ H / τ, no normalisation.
    case linear
}

/// Feed-forward activation σ in h(H; w) = a·σ(bᵀH + c) (PAPERS §1.2).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, gelu, tanh, sigmoid, silu

    var unaryFunction: UnaryFunction {
        switch self {
        case .relu: return .relu
        case .gelu: return .gelu
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .silu: return .silu
        }
    }
}

/// The shape and scalings of a mean-field Transformer with merged heads (PAPERS §1.2–1.3):
/// L layers, each averaging M attention heads (factor 1/M) and M′ feed-forward units (factor 1/M′),
/// added to the tokens with a residual step 1/L^α.
public struct TransformerConfig: Codable, Sendable, Equatable {
    /// Token dimension D.
    public var dimension: Int
    /// Attention heads per layer, M.
    public var heads: Int
    /// Feed-forward units per layer, M′ (0 = attention-only).
    public var ffnUnits: Int
    /// Number of layers, L.
    public var layers: Int
    /// Softmax temperature τ.
    public var temperature: Double
    /// Residual exponent α: each block adds (1/L^α)·(its average). α = 1 (PAPERS §1.2, default) or ½ (depth-μP).
    public var residualExponent: Double
    /// The attention score map.
    public var scoreMap: ScoreMap
    /// The feed-forward activation.
    public var activation: Activation
    /// Standard deviation of the i.i.d. Gaussian initial particles ρ₀ (PAPERS §1.4), per entry.
    public var initStd: Double

    public init(dimension: Int, heads: Int, ffnUnits: Int, layers: Int, temperature: Double = 1,
                residualExponent: Double = 1, scoreMap: ScoreMap = .softmax, activation: Activation = .relu,
                initStd: Double = 0.5) {
        self.dimension = dimension
        self.heads = heads
        self.ffnUnits = ffnUnits
        self.layers = layers
        self.temperature = temperature
        self.residualExponent = residualExponent
        self.scoreMap = scoreMap
        self.activation = activation
        self.initStd = initStd
    }

    /// The residual step 1/L^α (PAPERS §1.2).
    public var residualStep: Double { 1 / pow(Double(layers), residualExponent) }
}
