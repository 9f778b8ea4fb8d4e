/// Singular values of a dense real matrix, in `Double`, to high relative accuracy.
///
/// A Householder QR reduces the tall matrix to its k×k triangular factor R (same singular values),
/// then one-sided (Hestenes) Jacobi rotations orthogonalize R's columns; the singular values are the
/// final column norms. One-sided Jacobi computes small singular values to high *relative*
/// accuracy, which forming AᵀA would lose — the NTK-injectivity certificate σ_min/σ_max
/// (theory §2) lives in exactly that range.
public enum SingularValues {
    /// The min(rows, columns) singular values of the row-major rows×columns `matrix`, descending.
    public static func of(_ matrix: [Double], rows: Int, columns: Int) -> [Double] {
        precondition(matrix.count == rows * columns, "matrix has \(matrix.count) entries, \(rows)×\(columns) needs \(rows * columns)")
        guard rows > 0, columns > 0 else { return [] }
        // Work on the tall orientation, stored column-major: column j of the tall matrix is contiguous.
        let tallRows = max(rows, columns)
        let tallColumns = min(rows, columns)
        var a = [Double](repeating: 0, count: tallRows * tallColumns)
        for r in 0..<rows {
            for c in 0..<columns {
                if rows >= columns { a[c * tallRows + r] = matrix[r * columns + c] } else { a[r * tallRows + c] = matrix[r * columns + c] }
            }
        }
        let triangle = triangularFactor(&a, rows: tallRows, columns: tallColumns)
        return jacobiColumnNorms(triangle, order: tallColumns)
    }

    /// Householder QR of the column-major rows×columns `a` (rows ≥ columns); returns R column-major
    /// columns×columns (upper triangle).
    private static func triangularFactor(_ a: inout [Double], rows m: Int, columns n: Int) -> [Double] {
        for j in 0..<n {
            // Householder vector for column j below the diagonal.
            var norm = 0.0
            var scale = 0.0
            for i in j..<m { scale = max(scale, abs(a[j * m + i])) }
            if scale == 0 { continue }
            for i in j..<m {
                let x = a[j * m + i] / scale
                norm += x * x
            }
            norm = scale * norm.squareRoot()
            let alpha = a[j * m + j] > 0 ? -norm : norm
            // v = x − α e₁, stored in place; H = I − 2 v vᵀ / (vᵀv).
            a[j * m + j] -= alpha
            var vNormSquared = 0.0
            for i in j..<m { vNormSquared += a[j * m + i] * a[j * m + i] }
            if vNormSquared > 0 {
                for c in (j + 1)..<max(n, j + 1) {
                    var dot = 0.0
                    for i in j..<m { dot += a[j * m + i] * a[c * m + i] }
                    let factor = 2 * dot / vNormSquared
                    for i in j..<m { a[c * m + i] -= factor * a[j * m + i] }
                }
            }
            a[j * m + j] = alpha
            for i in (j + 1)..<max(m, j + 1) { a[j * m + i] = 0 }
        }
        var r = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            for i in 0...c { r[c * n + i] = a[c * m + i] }
        }
        return r
    }

    /// One-sided Jacobi on the column-major n×n matrix `r`: rotate column pairs until every pair is
    /// orthogonal to working precision; returns the column norms, descending.
    private static func jacobiColumnNorms(_ r: [Double], order n: Int) -> [Double] {
        var columns = r
        let tolerance = Double.ulpOfOne * Double(n).squareRoot()
        for _ in 0..<80 {
            var rotated = false
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<n {
                        let x = columns[p * n + i], y = columns[q * n + i]
                        alpha += x * x
                        beta += y * y
                        gamma += x * y
                    }
                    if gamma == 0 || abs(gamma) <= tolerance * (alpha * beta).squareRoot() { continue }
                    rotated = true
                    // Rotation angle that zeroes the (p, q) entry of the Gram matrix.
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot()
                    let s = c * t
                    for i in 0..<n {
                        let x = columns[p * n + i], y = columns[q * n + i]
                        columns[p * n + i] = c * x - s * y
                        columns[q * n + i] = s * x + c * y
                    }
                }
            }
            if !rotated { break }
        }
        var norms = [Double](repeating: 0, count: n)
        for c in 0..<n {
            var sum = 0.0
            for i in 0..<n { sum += columns[c * n + i] * columns[c * n + i] }
            norms[c] = sum.squareRoot()
        }
        return norms.sorted(by: >)
    }
}
