import RealModule

/// Errors of the dense linear-algebra routines.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    /// The matrix passed to a Cholesky factorization is not (numerically) positive definite.
    case notPositiveDefinite(pivot: Int, value: Double)
    /// An array's length does not match the dimensions it was declared with.
    case dimensionMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .notPositiveDefinite(pivot, value):
            return "matrix is not positive definite: pivot \(pivot) is \(value); add a ridge (a larger λ) or remove dependent columns"
        case let .dimensionMismatch(expected, actual):
            return "matrix has \(actual) entries where its dimensions need \(expected)"
        }
    }
}

/// The Cholesky factorization A = L Lᵀ of a symmetric positive definite matrix, in `Double`.
///
/// Matrices are row-major flat arrays. Only the lower triangle of the input is read. Used by the
/// ridge solves of VarPro (theory §3: u* = (ΦᵀΦ/(nm) + λI)⁻¹ Φᵀy/n, primal or dual form).
public struct CholeskyFactorization: Sendable {
    /// The order n of the factored matrix.
    public let dimension: Int
    /// The lower-triangular factor L, row-major n×n (upper triangle zero).
    public let lower: [Double]

    /// Factors `symmetric` (n×n, row-major); throws when a pivot is not positive.
    public init(symmetric matrix: [Double], dimension n: Int) throws {
        guard matrix.count == n * n else {
            throw LinearAlgebraError.dimensionMismatch(expected: n * n, actual: matrix.count)
        }
        var factor = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            // L_jj = sqrt(A_jj − Σ_{k<j} L_jk²)
            var diagonal = matrix[j * n + j]
            for k in 0..<j { diagonal -= factor[j * n + k] * factor[j * n + k] }
            guard diagonal > 0, diagonal.isFinite else {
                throw LinearAlgebraError.notPositiveDefinite(pivot: j, value: diagonal)
            }
            let pivot = diagonal.squareRoot()
            factor[j * n + j] = pivot
            // L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj for i > j
            for i in (j + 1)..<max(n, j + 1) {
                var value = matrix[i * n + j]
                for k in 0..<j { value -= factor[i * n + k] * factor[j * n + k] }
                factor[i * n + j] = value / pivot
            }
        }
        dimension = n
        lower = factor
    }

    /// Solves A x = b by forward (L y = b) and back (Lᵀ x = y) substitution.
    public func solve(_ rhs: [Double]) -> [Double] {
        let n = dimension
        precondition(rhs.count == n, "right-hand side has \(rhs.count) entries, matrix order is \(n)")
        var x = rhs
        for i in 0..<n {
            var value = x[i]
            for k in 0..<i { value -= lower[i * n + k] * x[k] }
            x[i] = value / lower[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var value = x[i]
            for k in (i + 1)..<max(n, i + 1) { value -= lower[k * n + i] * x[k] }
            x[i] = value / lower[i * n + i]
        }
        return x
    }

    /// Solves A X = B for a row-major n×columns right-hand side B.
    public func solve(matrix rhs: [Double], columns: Int) -> [Double] {
        let n = dimension
        precondition(rhs.count == n * columns, "right-hand side must be \(n)×\(columns)")
        var result = [Double](repeating: 0, count: n * columns)
        var column = [Double](repeating: 0, count: n)
        for c in 0..<columns {
            for i in 0..<n { column[i] = rhs[i * columns + c] }
            let solved = solve(column)
            for i in 0..<n { result[i * columns + c] = solved[i] }
        }
        return result
    }

    /// log det A = 2 Σ log L_ii.
    public var logDeterminant: Double {
        var sum = 0.0
        for i in 0..<dimension { sum += Double.log(lower[i * dimension + i]) }
        return 2 * sum
    }
}
