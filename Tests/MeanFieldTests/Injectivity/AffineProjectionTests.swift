// Projection out of span{1, a_p} (theory §2): the residual is orthogonal to every column of the design
// A = [1, a_p] and equals y − Aβ with β from the normal equations AᵀAβ = Aᵀy solved by Cholesky.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct AffineProjectionTests {
    @Test func residualIsOrthogonalAndMatchesNormalEquations() throws {
        let rows = 40, d = 3
        let directions = ProbeDirections.sample(count: rows, dimension: d, scales: [0.5, 2], seed: 5)
        var random = PhiloxRandom(seed: 9)
        let y = (random.normal([rows]) as Tensor<Double>).scalars.enumerated().map { $1 + Double($0 % 7) * 0.3 }
        let residual = AffineProjection(directions: directions, rows: rows, dimension: d).residual(y)
        func design(_ p: Int, _ j: Int) -> Double { j == 0 ? 1 : directions[p * d + j - 1] }
        for j in 0...d {
            let dot = (0..<rows).reduce(0.0) { $0 + design($1, j) * residual[$1] }
            #expect(abs(dot) < 1e-12)
        }
        var gram = [Double](repeating: 0, count: (d + 1) * (d + 1)), right = [Double](repeating: 0, count: d + 1)
        for p in 0..<rows {
            for i in 0...d {
                right[i] += design(p, i) * y[p]
                for j in 0...d { gram[i * (d + 1) + j] += design(p, i) * design(p, j) }
            }
        }
        let beta = try CholeskyFactorization(symmetric: gram, dimension: d + 1).solve(right)
        for p in 0..<rows {
            let fitted = (0...d).reduce(0.0) { $0 + design(p, $1) * beta[$1] }
            #expect(abs(residual[p] - (y[p] - fitted)) < 1e-10)
        }
    }

    @Test func affineFunctionsProjectToZero() {
        let rows = 30, d = 2
        let directions = ProbeDirections.sample(count: rows, dimension: d, scales: [1], seed: 1)
        let affine = (0..<rows).map { 2.5 - 1.5 * directions[$0 * d] + 4 * directions[$0 * d + 1] }
        let residual = AffineProjection(directions: directions, rows: rows, dimension: d).residual(affine)
        #expect(residual.allSatisfy { abs($0) < 1e-12 })
    }
}
