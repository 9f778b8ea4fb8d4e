import Foundation
import MeanFieldCore

/// How an attention head is parameterised (theory §1.2).
public enum AttentionKind: String, Codable, Sendable, CaseIterable {
    /// θ = (W_KQ, W_OV), both D×D: f(H; θ) = W_OV H softmax(Hᵀ W_KQ H / τ). Default for theory runs.
    case merged
    /// θ = (Q, K, V, O) with head width d_h: f(H; θ) = O V H softmax((K H)ᵀ (Q H) / (τ √d_h)).
    case factored
}

/// Score map of an attention head: how raw scores S = Hᵀ W_KQ H / τ become attention weights
/// (theory §1.2, "other score maps as options"). Weights act column-wise: column j (the query
/// token) mixes the value vectors of all key tokens i.
public enum ScoreMap: String, Codable, Sendable, CaseIterable {
    /// softmax over keys i of S_{ij} (default).
    case softmax
    /// Linear attention: the raw scores S, no normalisation.
    case linear
    /// ReLU attention: max(S, 0) / n, n the number of tokens (the 1/n keeps the weights O(1)).
    case relu
}

/// Feed-forward activation σ in h(H; w) = a·σ(bᵀH + c) (theory §1.2).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, gelu, tanh, sigmoid, silu

    package var unaryFunction: UnaryFunction {
        switch self {
        case .relu: return .relu
        case .gelu: return .gelu
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .silu: return .silu
        }
    }
}

/// What the model outputs (theory §1.3).
public enum ReadoutKind: String, Codable, Sendable, CaseIterable {
    /// ŷ = [H^{(L)}]_{d+1, N+1}: the label coordinate of the last (query) token.
    case regression
    /// logits = W · mean_i H^{(L)}_{:, i} + b (mean pooling, then a linear map R^D → R^C).
    case classification
    /// logits = W · H^{(L)}_{:, 0} + b: read from the first token, a learned class token that the
    /// model (``VisionTransformer``) prepends (theory §1.3, "or a class token").
    case classToken

    /// Whether the model outputs class logits (``classification`` or ``classToken``).
    public var isClassification: Bool { self != .regression }
}

/// The shape and scalings of a mean-field Transformer (theory §1.2–1.3): L layers, each averaging
/// M attention heads (factor 1/M) and M′ feed-forward units (factor 1/M′), added to the tokens with
/// a residual step 1/L^α. The factors come from ``parametrization``.
public struct TransformerConfig: Codable, Sendable, Equatable {
    /// Token dimension D.
    public var dimension: Int
    /// Attention heads per layer, M.
    public var heads: Int
    /// Feed-forward units per layer, M′ (0 = attention-only Transformer).
    public var ffnUnits: Int
    /// Number of layers, L.
    public var layers: Int
    /// Merged (W_KQ, W_OV) or factored (Q, K, V, O) heads.
    public var attention: AttentionKind
    /// Head width d_h of factored heads (ignored for merged heads).
    public var headDimension: Int
    /// Softmax temperature τ (scores are divided by τ, and by √d_h for factored heads).
    public var temperature: Double
    /// Residual exponent α: each block adds (1/L^α)·(its average). α = 1 (theory §1.2, default) or ½ (depth-μP).
    public var residualExponent: Double
    /// The attention score map.
    public var scoreMap: ScoreMap
    /// The feed-forward activation.
    public var activation: Activation
    /// Pre-norm: each half-step reads layer-normalised tokens (per token, over D, no affine part).
    /// Off-theory (theory §1.2 has no normalisation); for practical ViTs.
    public var preNorm: Bool
    /// Regression or classification readout.
    public var readout: ReadoutKind
    /// Number of classes C of a classification readout.
    public var classes: Int
    /// Standard deviation of the i.i.d. Gaussian initial particles ρ₀ (theory §1.4), per entry.
    /// `nil` means 1/√D.
    public var initStd: Double?
    /// The scaling factors: the heads' average, the flow scales, Q's weights (``Parametrization``).
    public var parametrization: Parametrization

    public init(dimension: Int, heads: Int, ffnUnits: Int, layers: Int, attention: AttentionKind = .merged,
                headDimension: Int? = nil, temperature: Double = 1, residualExponent: Double = 1,
                scoreMap: ScoreMap = .softmax, activation: Activation = .relu, preNorm: Bool = false,
                readout: ReadoutKind = .regression, classes: Int = 0, initStd: Double? = nil,
                parametrization: Parametrization = .standard) {
        self.dimension = dimension
        self.heads = heads
        self.ffnUnits = ffnUnits
        self.layers = layers
        self.attention = attention
        self.headDimension = headDimension ?? dimension
        self.temperature = temperature
        self.residualExponent = residualExponent
        self.scoreMap = scoreMap
        self.activation = activation
        self.preNorm = preNorm
        self.readout = readout
        self.classes = classes
        self.initStd = initStd
        self.parametrization = parametrization
    }

    /// The residual step 1/L^α (theory §1.2, ``Parametrization/residualStep(layers:exponent:)``).
    public var residualStep: Double { Parametrization.residualStep(layers: layers, exponent: residualExponent) }

    /// The sum of a layer's heads is divided by this: M, or √M or 1 (``Parametrization/headDivisor(heads:)``).
    public var headDivisor: Double { parametrization.headDivisor(heads: heads) }

    /// The sum of a layer's feed-forward units is divided by this: M′ (``Parametrization/unitDivisor(units:)``).
    public var unitDivisor: Double { Parametrization.unitDivisor(units: ffnUnits) }

    /// The factor applied to raw scores: 1/τ (merged) or 1/(τ√d_h) (factored).
    public var scoreScale: Double {
        attention == .merged ? 1 / temperature : 1 / (temperature * Double(headDimension).squareRoot())
    }

    /// The initial standard deviation actually used.
    public var resolvedInitStd: Double { initStd ?? 1 / Double(dimension).squareRoot() }
}
