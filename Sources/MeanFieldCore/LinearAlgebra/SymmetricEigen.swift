import RealModule

/// Eigenvalues and eigenvectors of a real symmetric matrix, in `Double`.
///
/// Householder reduction to tridiagonal form followed by the implicit QL algorithm with Wilkinson
/// shifts (the EISPACK `tred2`/`tql2` pair, as in JAMA). O(n³) once, instead of the O(n³) per sweep
/// of Jacobi rotations. Used for the NTK Gram matrix's λ_min and the local PL constant
/// 2λ_min(K)/n (theory §4), and the random-feature kernel's λ_min (theory §5).
public enum SymmetricEigen {
    /// Eigenvalues of the symmetric n×n row-major `matrix`, ascending. Only symmetry is assumed
    /// (the lower triangle is read as the matrix).
    public static func eigenvalues(of matrix: [Double], dimension n: Int) -> [Double] {
        decompose(matrix, dimension: n, vectors: false).values
    }

    /// Eigenvalues (ascending) and, when `vectors` is true, the orthonormal eigenvectors as the
    /// columns of a row-major n×n matrix (column j belongs to `values[j]`).
    public static func decompose(
        _ matrix: [Double], dimension n: Int, vectors: Bool = true
    ) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "matrix has \(matrix.count) entries, \(n)×\(n) needs \(n * n)")
        guard n > 0 else { return ([], []) }
        var v = matrix
        // Symmetrize from the lower triangle so the routine sees an exactly symmetric matrix.
        for i in 0..<n { for j in 0..<i { v[j * n + i] = v[i * n + j] } }
        var d = [Double](repeating: 0, count: n)
        var e = [Double](repeating: 0, count: n)
        tridiagonalize(&v, &d, &e, n)
        diagonalize(&v, &d, &e, n, accumulate: vectors)
        // Sort ascending, carrying the eigenvector columns along.
        let order = (0..<n).sorted { d[$0] < d[$1] }
        let values = order.map { d[$0] }
        guard vectors else { return (values, []) }
        var sorted = [Double](repeating: 0, count: n * n)
        for (newColumn, oldColumn) in order.enumerated() {
            for row in 0..<n { sorted[row * n + newColumn] = v[row * n + oldColumn] }
        }
        return (values, sorted)
    }

    /// Householder tridiagonalization (EISPACK tred2): on return d is the diagonal, e[1..] the
    /// sub-diagonal, and v the accumulated orthogonal transformation.
    private static func tridiagonalize(_ v: inout [Double], _ d: inout [Double], _ e: inout [Double], _ n: Int) {
        for j in 0..<n { d[j] = v[(n - 1) * n + j] }
        for i in stride(from: n - 1, to: 0, by: -1) {
            var scale = 0.0
            var h = 0.0
            for k in 0..<i { scale += abs(d[k]) }
            if scale == 0 {
                e[i] = d[i - 1]
                for j in 0..<i {
                    d[j] = v[(i - 1) * n + j]
                    v[i * n + j] = 0
                    v[j * n + i] = 0
                }
            } else {
                for k in 0..<i {
                    d[k] /= scale
                    h += d[k] * d[k]
                }
                var f = d[i - 1]
                var g = h.squareRoot()
                if f > 0 { g = -g }
                e[i] = scale * g
                h -= f * g
                d[i - 1] = f - g
                for j in 0..<i { e[j] = 0 }
                for j in 0..<i {
                    f = d[j]
                    v[j * n + i] = f
                    g = e[j] + v[j * n + j] * f
                    for k in (j + 1)..<i {
                        g += v[k * n + j] * d[k]
                        e[k] += v[k * n + j] * f
                    }
                    e[j] = g
                }
                f = 0
                for j in 0..<i {
                    e[j] /= h
                    f += e[j] * d[j]
                }
                let hh = f / (h + h)
                for j in 0..<i { e[j] -= hh * d[j] }
                for j in 0..<i {
                    f = d[j]
                    g = e[j]
                    for k in j..<i { v[k * n + j] -= f * e[k] + g * d[k] }
                    d[j] = v[(i - 1) * n + j]
                    v[i * n + j] = 0
                }
            }
            d[i] = h
        }
        // Accumulate the transformations.
        for i in 0..<(n - 1) {
            v[(n - 1) * n + i] = v[i * n + i]
            v[i * n + i] = 1
            let h = d[i + 1]
            if h != 0 {
                for k in 0...i { d[k] = v[k * n + i + 1] / h }
                for j in 0...i {
                    var g = 0.0
                    for k in 0...i { g += v[k * n + i + 1] * v[k * n + j] }
                    for k in 0...i { v[k * n + j] -= g * d[k] }
                }
            }
            for k in 0...i { v[k * n + i + 1] = 0 }
        }
        for j in 0..<n {
            d[j] = v[(n - 1) * n + j]
            v[(n - 1) * n + j] = 0
        }
        v[(n - 1) * n + n - 1] = 1
        e[0] = 0
    }

    /// Implicit QL iterations on the tridiagonal matrix (EISPACK tql2); d becomes the eigenvalues.
    private static func diagonalize(
        _ v: inout [Double], _ d: inout [Double], _ e: inout [Double], _ n: Int, accumulate: Bool
    ) {
        for i in 1..<max(n, 1) { e[i - 1] = e[i] }
        e[n - 1] = 0
        var f = 0.0
        var largest = 0.0
        let epsilon = Double.ulpOfOne
        for l in 0..<n {
            largest = max(largest, abs(d[l]) + abs(e[l]))
            var m = l
            while m < n - 1, abs(e[m]) > epsilon * largest { m += 1 }
            if m > l {
                var iterations = 0
                repeat {
                    iterations += 1
                    if iterations > 60 { break }  // never seen; guards against a non-finite input
                    var g = d[l]
                    var p = (d[l + 1] - g) / (2 * e[l])
                    var r = Double.hypot(p, 1)
                    if p < 0 { r = -r }
                    d[l] = e[l] / (p + r)
                    d[l + 1] = e[l] * (p + r)
                    let dl1 = d[l + 1]
                    var h = g - d[l]
                    for i in (l + 2)..<n { d[i] -= h }
                    f += h
                    p = d[m]
                    var c = 1.0, c2 = 1.0, c3 = 1.0
                    let el1 = e[l + 1]
                    var s = 0.0, s2 = 0.0
                    for i in stride(from: m - 1, through: l, by: -1) {
                        c3 = c2
                        c2 = c
                        s2 = s
                        g = c * e[i]
                        h = c * p
                        r = Double.hypot(p, e[i])
                        e[i + 1] = s * r
                        s = e[i] / r
                        c = p / r
                        p = c * d[i] - s * g
                        d[i + 1] = h + s * (c * g + s * d[i])
                        if accumulate {
                            for k in 0..<n {
                                h = v[k * n + i + 1]
                                v[k * n + i + 1] = s * v[k * n + i] + c * h
                                v[k * n + i] = c * v[k * n + i] - s * h
                            }
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1
                    e[l] = s * p
                    d[l] = c * p
                } while abs(e[l]) > epsilon * largest
            }
            d[l] += f
            e[l] = 0
        }
    }
}
