import Foundation

/// The two feature families of the VarPro teacher–student experiments (theory §3, E5).
public enum VarProFeatureKind: String, Codable, Sendable, CaseIterable {
    /// ReLU units with weights on the circle S¹: φ(θ, x) = max(0, ⟨w_θ, x⟩), w_θ = (cos θ, sin θ),
    /// inputs x ~ N(0, I₂). The angle parameterisation keeps w on S¹ without renormalising.
    case reluCircle = "relu-circle"
    /// "Convolution" features on the periodic unit torus [0, 1)²: φ(w, x) = (2/s²) exp(−|w − x|_per / s),
    /// inputs x ~ U([0, 1)²).
    case rbfTorus = "rbf-torus"
}

/// A feature map φ(θ, x) with its analytic θ-gradient (theory §3). Parameters and inputs are flat
/// row-major arrays: θ is m×p (p = ``parameterDimension``), x is n×2.
public struct VarProFeatureMap: Codable, Sendable, Equatable {
    public var kind: VarProFeatureKind
    /// s of the torus features (unused on the circle).
    public var scale: Double

    public init(kind: VarProFeatureKind, scale: Double = 0.2) {
        self.kind = kind
        self.scale = scale
    }

    /// p: 1 (an angle) on the circle, 2 (a point of the torus) on the torus.
    public var parameterDimension: Int { kind == .reluCircle ? 1 : 2 }

    /// φ(θ, x) for one parameter (p values) and one input (2 values).
    public func value(parameter: [Double], input: [Double]) -> Double {
        valueAndGradient(parameter, 0, input, 0).value
    }

    /// ∇_θ φ(θ, x) (p values) for one parameter and one input.
    public func gradient(parameter: [Double], input: [Double]) -> [Double] {
        let result = valueAndGradient(parameter, 0, input, 0)
        return parameterDimension == 1 ? [result.gradient.0] : [result.gradient.0, result.gradient.1]
    }

    /// The periodic difference a − b wrapped into [−½, ½) (one coordinate of the unit torus).
    @inline(__always) static func wrapped(_ difference: Double) -> Double {
        difference - (difference + 0.5).rounded(.down)
    }

    @inline(__always)
    func valueAndGradient(_ parameters: [Double], _ j: Int, _ inputs: [Double], _ i: Int) -> (value: Double, gradient: (Double, Double)) {
        switch kind {
        case .reluCircle:
            // φ = max(0, cos θ x₁ + sin θ x₂);  ∂φ/∂θ = 1[⟨w, x⟩ > 0] (−sin θ x₁ + cos θ x₂).
            let angle = parameters[j]
            let (c, s) = (cos(angle), sin(angle))
            let (x1, x2) = (inputs[2 * i], inputs[2 * i + 1])
            let projection = c * x1 + s * x2
            return projection > 0 ? (projection, (-s * x1 + c * x2, 0)) : (0, (0, 0))
        case .rbfTorus:
            // δ = (w − x)_per, d = |δ|: φ = (2/s²) e^{−d/s};  ∇_w φ = −(φ/s) δ/d (0 at d = 0).
            let d1 = Self.wrapped(parameters[2 * j] - inputs[2 * i])
            let d2 = Self.wrapped(parameters[2 * j + 1] - inputs[2 * i + 1])
            let distance = (d1 * d1 + d2 * d2).squareRoot()
            let phi = 2 / (scale * scale) * exp(-distance / scale)
            guard distance > 0 else { return (phi, (0, 0)) }
            let factor = -phi / (scale * distance)
            return (phi, (factor * d1, factor * d2))
        }
    }

    /// Fills Φ (n×m, Φ_ij = φ(θ_j, x_i)) and ∂Φ (p blocks of n×m: block k holds
    /// ∂φ(θ_j, x_i)/∂θ_{j,k}); the arrays are resized when their size is wrong.
    public func evaluate(parameters: [Double], width m: Int, inputs: [Double], samples n: Int,
                         features: inout [Double], gradients: inout [Double]) {
        precondition(parameters.count == m * parameterDimension && inputs.count == 2 * n)
        let p = parameterDimension
        if features.count != n * m { features = [Double](repeating: 0, count: n * m) }
        if gradients.count != p * n * m { gradients = [Double](repeating: 0, count: p * n * m) }
        if kind == .reluCircle {
            // The same formulas as valueAndGradient, with cos θ_j and sin θ_j computed once per unit.
            let cosines = parameters.map { cos($0) }, sines = parameters.map { sin($0) }
            features.withUnsafeMutableBufferPointer { phi in
                gradients.withUnsafeMutableBufferPointer { dphi in
                    for i in 0..<n {
                        let (x1, x2) = (inputs[2 * i], inputs[2 * i + 1])
                        for j in 0..<m {
                            let projection = cosines[j] * x1 + sines[j] * x2
                            let active = projection > 0
                            phi[i * m + j] = active ? projection : 0
                            dphi[i * m + j] = active ? -sines[j] * x1 + cosines[j] * x2 : 0
                        }
                    }
                }
            }
            return
        }
        features.withUnsafeMutableBufferPointer { phi in
            gradients.withUnsafeMutableBufferPointer { dphi in
                for i in 0..<n {
                    for j in 0..<m {
                        let result = valueAndGradient(parameters, j, inputs, i)
                        phi[i * m + j] = result.value
                        dphi[i * m + j] = result.gradient.0
                        if p == 2 { dphi[n * m + i * m + j] = result.gradient.1 }
                    }
                }
            }
        }
    }

    /// Maps parameters back to their fundamental domain: angles into [0, 2π), torus points into [0, 1)².
    public func canonicalise(_ parameters: inout [Double]) {
        let period = kind == .reluCircle ? 2 * Double.pi : 1
        for k in parameters.indices {
            parameters[k] -= period * (parameters[k] / period).rounded(.down)
            if parameters[k] >= period { parameters[k] -= period }
        }
    }

    /// Points of the embedding in which distances between feature measures are taken: the circle
    /// angle θ ↦ (cos θ, sin θ) ∈ R² (chordal distance 2|sin((θ − θ')/2)|); the torus point
    /// (a, b) ↦ (cos 2πa, sin 2πa, cos 2πb, sin 2πb)/(2π) ∈ R⁴ (chordal, ≈ the periodic distance
    /// for nearby points). Euclidean distance in an embedding is conditionally negative definite,
    /// so the energy distance is a metric on measures.
    public func embed(_ parameters: [Double]) -> (points: [Double], dimension: Int) {
        switch kind {
        case .reluCircle:
            return (parameters.flatMap { [cos($0), sin($0)] }, 2)
        case .rbfTorus:
            let radius = 1 / (2 * Double.pi)
            return (parameters.flatMap { [radius * cos(2 * .pi * $0), radius * sin(2 * .pi * $0)] }, 4)
        }
    }
}
