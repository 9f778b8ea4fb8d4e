import Foundation

/// The teacher of the teacher–student experiments (theory §3, E5): a feature measure ν* given as a
/// fine weighted quadrature grid (points with masses summing to 1), outer weights 1, so that the
/// targets are y(x) = ∫ φ(θ, x) dν*(θ) — the infinite-width teacher, up to quadrature error.
public struct VarProTeacher: Sendable {
    public let features: VarProFeatureMap
    /// Grid points, count × p, row-major.
    public let points: [Double]
    /// Masses of the grid points (sum 1).
    public let weights: [Double]

    public var count: Int { weights.count }

    /// The public code's two-mode density on the circle (unnormalised, theory §3):
    /// ν*(θ) ∝ 1/(1 + γ sin²(θ/2)) + 0.5/(1 + γ sin²((θ − 0.4π)/2)); the two modes have masses 2:1.
    public static func circleDensity(_ angle: Double, gamma: Double) -> Double {
        let first = sin(angle / 2), second = sin((angle - 0.4 * .pi) / 2)
        return 1 / (1 + gamma * first * first) + 0.5 / (1 + gamma * second * second)
    }

    /// The torus teacher: two wrapped bumps exp(κ(cos 2π(a − c₁) + cos 2π(b − c₂) − 2)) at
    /// c = (0.25, 0.25) and (0.7, 0.65), the second with half the weight (unnormalised).
    public static func torusDensity(_ a: Double, _ b: Double, concentration kappa: Double) -> Double {
        func bump(_ c1: Double, _ c2: Double) -> Double {
            exp(kappa * (cos(2 * .pi * (a - c1)) + cos(2 * .pi * (b - c2)) - 2))
        }
        return bump(0.25, 0.25) + 0.5 * bump(0.7, 0.65)
    }

    /// The circle teacher on `grid` equally spaced angles 2πk/grid, masses ∝ ``circleDensity(_:gamma:)``.
    public static func circle(gamma: Double, grid: Int) -> VarProTeacher {
        let angles = (0..<grid).map { 2 * Double.pi * Double($0) / Double(grid) }
        let masses = angles.map { circleDensity($0, gamma: gamma) }
        let total = masses.reduce(0, +)
        return VarProTeacher(features: VarProFeatureMap(kind: .reluCircle), points: angles, weights: masses.map { $0 / total })
    }

    /// The torus teacher on a grid×grid lattice of cell centres, masses ∝ ``torusDensity(_:_:concentration:)``.
    public static func torus(concentration: Double, grid: Int, scale: Double) -> VarProTeacher {
        var points: [Double] = [], masses: [Double] = []
        for a in 0..<grid {
            for b in 0..<grid {
                let (x, y) = ((Double(a) + 0.5) / Double(grid), (Double(b) + 0.5) / Double(grid))
                points += [x, y]
                masses.append(torusDensity(x, y, concentration: concentration))
            }
        }
        let total = masses.reduce(0, +)
        return VarProTeacher(features: VarProFeatureMap(kind: .rbfTorus, scale: scale), points: points, weights: masses.map { $0 / total })
    }

    /// y_i = Σ_g w_g φ(θ_g, x_i) for the n inputs (n×2, row-major).
    public func targets(inputs: [Double]) -> [Double] {
        let n = inputs.count / 2
        var phi: [Double] = [], unused: [Double] = []
        features.evaluate(parameters: points, width: count, inputs: inputs, samples: n, features: &phi, gradients: &unused)
        return (0..<n).map { i in
            var sum = 0.0
            for g in 0..<count { sum += weights[g] * phi[i * count + g] }
            return sum
        }
    }

    /// n inputs for this teacher's features: x ~ N(0, I₂) on the circle, x ~ U([0, 1)²) on the torus.
    public static func inputs(for kind: VarProFeatureKind, samples n: Int, generator: inout some RandomNumberGenerator) -> [Double] {
        var values = [Double](repeating: 0, count: 2 * n)
        switch kind {
        case .reluCircle:
            for k in 0..<n {
                // Box–Muller: two independent N(0, 1).
                let radius = (-2 * log(1 - Double.random(in: 0..<1, using: &generator))).squareRoot()
                let angle = 2 * Double.pi * Double.random(in: 0..<1, using: &generator)
                values[2 * k] = radius * cos(angle)
                values[2 * k + 1] = radius * sin(angle)
            }
        case .rbfTorus:
            for k in values.indices { values[k] = Double.random(in: 0..<1, using: &generator) }
        }
        return values
    }
}
