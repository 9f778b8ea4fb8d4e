// The ridge projection of VarPro (theory §3) against an independent solve of the normal equations
// (Gaussian elimination with partial pivoting, written here), and the primal and dual forms against
// each other.
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// Solves A x = b (n×n row-major) by Gaussian elimination with partial pivoting.
func gaussianElimination(_ matrix: [Double], _ rhs: [Double]) -> [Double] {
    let n = rhs.count
    var a = matrix, b = rhs
    for column in 0..<n {
        let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
        if pivot != column {
            for k in 0..<n { a.swapAt(column * n + k, pivot * n + k) }
            b.swapAt(column, pivot)
        }
        for row in (column + 1)..<max(n, column + 1) {
            let factor = a[row * n + column] / a[column * n + column]
            for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
            b[row] -= factor * b[column]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for row in stride(from: n - 1, through: 0, by: -1) {
        var value = b[row]
        for k in (row + 1)..<max(n, row + 1) { value -= a[row * n + k] * x[k] }
        x[row] = value / a[row * n + row]
    }
    return x
}

@Suite struct VarProRidgeSolverTests {
    /// A random n×m feature matrix and targets (fixed seed).
    static func problem(samples n: Int, width m: Int, seed: UInt64) -> (features: [Double], targets: [Double]) {
        var generator = PhiloxRandom(seed: seed)
        let features = (0..<(n * m)).map { _ in Double.random(in: -1...2, using: &generator) }
        let targets = (0..<n).map { _ in Double.random(in: -1...1, using: &generator) }
        return (features, targets)
    }

    /// u* from the normal equations of J(u) = (1/(2λn)) Σ_i ((Φu)_i/m − y_i)² + (1/(2m)) Σ_j (u_j − b)²:
    /// (ΦᵀΦ/(λ n m²) + I/m) u = Φᵀy/(λ n m) + b/m, assembled entry by entry from the objective.
    static func normalEquationsSolution(_ features: [Double], _ targets: [Double], n: Int, m: Int, lambda: Double, centre: Double) -> [Double] {
        var matrix = [Double](repeating: 0, count: m * m)
        var rhs = [Double](repeating: 0, count: m)
        for j in 0..<m {
            for k in 0..<m {
                var sum = 0.0
                for i in 0..<n { sum += features[i * m + j] * features[i * m + k] }
                matrix[j * m + k] = sum / (lambda * Double(n) * Double(m * m)) + (j == k ? 1 / Double(m) : 0)
            }
            var sum = 0.0
            for i in 0..<n { sum += features[i * m + j] * targets[i] }
            rhs[j] = sum / (lambda * Double(n) * Double(m)) + centre / Double(m)
        }
        return gaussianElimination(matrix, rhs)
    }

    @Test(arguments: [(9, 4), (4, 9), (6, 6)], [0.0, 1.0])
    func ridgeMatchesNormalEquations(shape: (Int, Int), centre: Double) throws {
        let (n, m) = shape
        let (features, targets) = Self.problem(samples: n, width: m, seed: UInt64(n * 31 + m))
        for lambda in [1e-3, 0.1, 2.0] {
            let reference = Self.normalEquationsSolution(features, targets, n: n, m: m, lambda: lambda, centre: centre)
            for form in RidgeForm.allCases {
                let solution = try RidgeSolver.solve(features: features, samples: n, width: m, targets: targets, ridge: lambda,
                                                     centre: centre, form: form)
                let error = zip(solution, reference).map { abs($0 - $1) }.max()!
                let size = reference.map(abs).max()!
                #expect(error <= 1e-9 * max(1, size), "\(form) n=\(n) m=\(m) λ=\(lambda) b=\(centre): error \(error)")
            }
        }
    }

    @Test func primalAndDualAgree() throws {
        for (n, m) in [(5, 12), (12, 5), (8, 8)] {
            let (features, targets) = Self.problem(samples: n, width: m, seed: 7)
            for centre in [0.0, 1.0] {
                let primal = try RidgeSolver.solve(features: features, samples: n, width: m, targets: targets, ridge: 0.05, centre: centre, form: .primal)
                let dual = try RidgeSolver.solve(features: features, samples: n, width: m, targets: targets, ridge: 0.05, centre: centre, form: .dual)
                let difference = zip(primal, dual).map { abs($0 - $1) }.max()!
                #expect(difference <= 1e-10, "n=\(n) m=\(m) b=\(centre): primal − dual = \(difference)")
            }
        }
        #expect(RidgeForm.preferred(samples: 5, width: 12) == .dual)
        #expect(RidgeForm.preferred(samples: 12, width: 5) == .primal)
    }

    /// One unknown: J(u) = (1/(2λn)) Σ (φ_i u − y_i)² + ½(u − b)² (m = 1) has u* = (Σφy/(λn) + b)/(Σφ²/(λn) + 1).
    @Test func closedFormForOneFeature() throws {
        let features = [1.0, 2.0, -0.5], targets = [0.3, 1.1, -0.2], lambda = 0.25, centre = 1.0
        let n = 3.0
        let numerator = zip(features, targets).map(*).reduce(0, +) / (lambda * n) + centre
        let denominator = features.map { $0 * $0 }.reduce(0, +) / (lambda * n) + 1
        let solution = try RidgeSolver.solve(features: features, samples: 3, width: 1, targets: targets, ridge: lambda, centre: centre)
        #expect(abs(solution[0] - numerator / denominator) < 1e-14)
    }
}
