import Foundation

/// Projection of sampled functions out of the affine functions of a (theory §2): with the design
/// matrix A = [1, a_p] (P × (d+1)), each column y of G is replaced by its least-squares residual
/// y − A(AᵀA)⁻¹Aᵀy. Computed with an orthonormal basis of A's columns (modified Gram–Schmidt,
/// applied twice for orthogonality to rounding), which avoids squaring A's condition number.
public struct AffineProjection: Sendable {
    /// Orthonormal basis of span{1, a_p}, each vector of length `rows`.
    public let basis: [[Double]]
    public let rows: Int

    /// The projection for directions `directions` (row-major rows × dimension).
    public init(directions: [Double], rows: Int, dimension d: Int) {
        self.rows = rows
        var columns: [[Double]] = [[Double](repeating: 1, count: rows)]
        for c in 0..<d { columns.append((0..<rows).map { directions[$0 * d + c] }) }
        var basis: [[Double]] = []
        for column in columns {
            let originalNorm = Self.norm(column)
            var vector = column
            for _ in 0..<2 { for q in basis { Self.removeComponent(of: q, from: &vector) } }
            let length = Self.norm(vector)
            // A column dependent on the previous ones (P ≤ d, or repeated directions) adds nothing.
            if length > 1e-12 * max(originalNorm, 1e-300) { basis.append(vector.map { $0 / length }) }
        }
        self.basis = basis
    }

    /// `vector` minus its orthogonal projection onto span{1, a_p}.
    public func residual(_ vector: [Double]) -> [Double] {
        precondition(vector.count == rows, "vector has \(vector.count) entries, the projection has \(rows) rows")
        var result = vector
        for _ in 0..<2 { for q in basis { Self.removeComponent(of: q, from: &result) } }
        return result
    }

    static func removeComponent(of unit: [Double], from vector: inout [Double]) {
        var dot = 0.0
        for i in vector.indices { dot += unit[i] * vector[i] }
        for i in vector.indices { vector[i] -= dot * unit[i] }
    }

    static func norm(_ vector: [Double]) -> Double {
        var sum = 0.0
        for value in vector { sum += value * value }
        return sum.squareRoot()
    }
}
