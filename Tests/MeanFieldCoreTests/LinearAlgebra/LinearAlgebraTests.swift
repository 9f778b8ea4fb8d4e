import Testing
@testable import MeanFieldCore

/// Dense linear algebra against matrices built from a known spectrum (A = Q diag(λ) Qᵀ with Q a
/// product of Householder reflections) and against closed forms.
@Suite struct LinearAlgebraTests {
    /// Uniform(−1, 1) entries from a seeded Philox stream.
    private func randomEntries(_ count: Int, seed: UInt64) -> [Double] {
        var generator = PhiloxRandom(seed: seed)
        return (0..<count).map { _ in Double.random(in: -1...1, using: &generator) }
    }

    /// An n×n orthogonal matrix (row-major): the product of n Householder reflections.
    private func orthogonal(_ n: Int, seed: UInt64) -> [Double] {
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { q[i * n + i] = 1 }
        for reflection in 0..<n {
            let v = randomEntries(n, seed: seed &+ UInt64(reflection) &* 7919)
            let vv = v.reduce(0) { $0 + $1 * $1 }
            // q ← q (I − 2 v vᵀ / vᵀv)
            for row in 0..<n {
                var dot = 0.0
                for k in 0..<n { dot += q[row * n + k] * v[k] }
                for k in 0..<n { q[row * n + k] -= 2 * dot * v[k] / vv }
            }
        }
        return q
    }

    /// Row-major product of an r×k and a k×c matrix.
    private func multiply(_ a: [Double], _ b: [Double], _ r: Int, _ k: Int, _ c: Int) -> [Double] {
        var out = [Double](repeating: 0, count: r * c)
        for i in 0..<r { for l in 0..<k { let x = a[i * k + l]; for j in 0..<c { out[i * c + j] += x * b[l * c + j] } } }
        return out
    }

    private func transpose(_ a: [Double], _ r: Int, _ c: Int) -> [Double] {
        var out = [Double](repeating: 0, count: r * c)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = a[i * c + j] } }
        return out
    }

    @Test func choleskySolvesASymmetricPositiveDefiniteSystem() throws {
        let n = 40
        let b = randomEntries(n * n, seed: 1)
        var a = multiply(b, transpose(b, n, n), n, n, n)
        for i in 0..<n { a[i * n + i] += 0.5 }
        let rhs = randomEntries(n, seed: 2)
        let factor = try CholeskyFactorization(symmetric: a, dimension: n)
        let x = factor.solve(rhs)
        let residual = multiply(a, x, n, n, 1)
        for i in 0..<n { #expect(abs(residual[i] - rhs[i]) < 1e-10) }
        // L Lᵀ reproduces A.
        let product = multiply(factor.lower, transpose(factor.lower, n, n), n, n, n)
        for i in 0..<(n * n) { #expect(abs(product[i] - a[i]) < 1e-10 * max(1, abs(a[i]))) }
        // Matrix right-hand side agrees column by column.
        let twoColumns = (0..<n).flatMap { [rhs[$0], 2 * rhs[$0]] }
        let solved = factor.solve(matrix: twoColumns, columns: 2)
        for i in 0..<n {
            #expect(abs(solved[2 * i] - x[i]) < 1e-12 * max(1, abs(x[i])))
            #expect(abs(solved[2 * i + 1] - 2 * x[i]) < 1e-12 * max(1, abs(x[i])))
        }
    }

    @Test func choleskyLogDeterminantMatchesTheTwoByTwoClosedForm() throws {
        let factor = try CholeskyFactorization(symmetric: [4, 2, 2, 3], dimension: 2)
        #expect(abs(factor.logDeterminant - Double.log(8)) < 1e-14)
    }

    @Test func choleskyRejectsAnIndefiniteMatrix() {
        #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: 1, value: -3)) {
            _ = try CholeskyFactorization(symmetric: [1, 2, 2, 1], dimension: 2)
        }
        #expect(throws: LinearAlgebraError.dimensionMismatch(expected: 4, actual: 3)) {
            _ = try CholeskyFactorization(symmetric: [1, 2, 3], dimension: 2)
        }
    }

    @Test func eigenvaluesOfAMatrixWithAKnownSpectrum() {
        let n = 30
        // Repeated, negative, zero and widely spread eigenvalues.
        let spectrum = (0..<n).map { i -> Double in i < 3 ? 2.0 : (i == 3 ? 0 : Double(i - 15) * 0.7) }
        let q = orthogonal(n, seed: 11)
        var scaled = q
        for i in 0..<n { for j in 0..<n { scaled[i * n + j] *= spectrum[j] } }
        let a = multiply(scaled, transpose(q, n, n), n, n, n)
        let (values, vectors) = SymmetricEigen.decompose(a, dimension: n)
        let expected = spectrum.sorted()
        for i in 0..<n { #expect(abs(values[i] - expected[i]) < 1e-12) }
        #expect(SymmetricEigen.eigenvalues(of: a, dimension: n) == values)
        // A v = λ v and the eigenvectors are orthonormal.
        let av = multiply(a, vectors, n, n, n)
        for i in 0..<n { for j in 0..<n { #expect(abs(av[i * n + j] - values[j] * vectors[i * n + j]) < 1e-11) } }
        let gram = multiply(transpose(vectors, n, n), vectors, n, n, n)
        for i in 0..<n { for j in 0..<n { #expect(abs(gram[i * n + j] - (i == j ? 1 : 0)) < 1e-12) } }
    }

    @Test func eigenvaluesOfTwoByTwoAndOneByOneClosedForms() {
        // [[a, b], [b, c]]: (a + c)/2 ± sqrt(((a − c)/2)² + b²)
        let values = SymmetricEigen.eigenvalues(of: [3, 1.5, 1.5, -1], dimension: 2)
        let mid = 1.0, radius = (4.0 + 2.25).squareRoot()
        #expect(abs(values[0] - (mid - radius)) < 1e-14)
        #expect(abs(values[1] - (mid + radius)) < 1e-14)
        #expect(SymmetricEigen.eigenvalues(of: [-7], dimension: 1) == [-7])
        #expect(SymmetricEigen.eigenvalues(of: [], dimension: 0).isEmpty)
    }

    @Test func singularValuesOfTallAndWideMatricesWithAKnownSpectrum() {
        let rows = 60, columns = 12
        let sigma = (0..<columns).map { Double.pow(10, -Double($0)) }  // 1 … 1e-11
        let u = orthogonal(rows, seed: 21)
        let v = orthogonal(columns, seed: 22)
        // A = U[:, :k] diag(σ) Vᵀ
        var a = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows { for j in 0..<columns { for k in 0..<columns { a[i * columns + j] += u[i * rows + k] * sigma[k] * v[j * columns + k] } } }
        let tall = SingularValues.of(a, rows: rows, columns: columns)
        let wide = SingularValues.of(transpose(a, rows, columns), rows: columns, columns: rows)
        #expect(tall.count == columns && wide.count == columns)
        for k in 0..<columns {
            #expect(abs(tall[k] - sigma[k]) < 1e-14)
            #expect(abs(wide[k] - sigma[k]) < 1e-14)
        }
        // The well-separated top ones to relative accuracy.
        for k in 0..<4 { #expect(abs(tall[k] - sigma[k]) / sigma[k] < 1e-12) }
    }

    @Test func singularValuesOfARankDeficientMatrixIncludeZeros() {
        // Columns: x, 2x, y  → rank 2; singular values of [[1,2,0],[0,0,1],[1,2,0]]: sqrt(10), 1, 0.
        let a: [Double] = [1, 2, 0, 0, 0, 1, 1, 2, 0]
        let values = SingularValues.of(a, rows: 3, columns: 3)
        #expect(abs(values[0] - 10.0.squareRoot()) < 1e-14)
        #expect(abs(values[1] - 1) < 1e-14)
        #expect(values[2] < 1e-15)
    }
}
