import Foundation
import MeanFieldCore

/// How the NTK injectivity check samples and decides (theory §2).
public struct InjectivityOptions: Codable, Sendable {
    /// P, the number of probe directions (P ≫ K).
    public var directions: Int
    /// The direction scales cycled through (see ``ProbeDirections``).
    public var scales: [Double]
    /// Verdict threshold: injective iff σ_min/σ_max > tolerance and σ_max > tolerance.
    public var tolerance: Double
    /// Also run the Hessian (tilted-covariance) variant.
    public var hessian: Bool
    /// Seed of the probe directions.
    public var seed: UInt64

    public init(directions: Int, scales: [Double] = [0.5, 1, 2, 4], tolerance: Double = 1e-9, hessian: Bool = true, seed: UInt64 = 0) {
        self.directions = directions
        self.scales = scales
        self.tolerance = tolerance
        self.hessian = hessian
        self.seed = seed
    }
}

/// The spectrum of one test matrix and the decision drawn from it.
public struct InjectivitySpectrum: Codable, Sendable {
    /// Which matrix: "log-sum-exp" (affine-projected G) or "hessian" (vec ∇²g_k(a_p)).
    public var variant: String
    /// Rows × columns of the matrix whose singular values these are.
    public var rows: Int
    public var columns: Int
    /// Singular values, descending (columns normalised to unit norm before projection).
    public var singularValues: [Double]
    /// σ_min / σ_max (0 when σ_max ≤ tolerance: no non-affine part left).
    public var certificate: Double
    /// How many singular values exceed tolerance · σ_max (and tolerance).
    public var numericalRank: Int
    public var injective: Bool
    /// "injective" or "not injective: <reason>".
    public var verdict: String
}

/// The NTK injectivity test of theory §2: attention's NTK is injective iff g_k(a) = log Σ_i exp(a·z_{k,i})
/// are linearly independent modulo affine functions of a. Sample G_{pk} = g_k(a_p), normalise each
/// column, project out span{1, a_p}, and read the singular values: the certificate is σ_min/σ_max.
/// The Hessian variant tests the vectors vec ∇²g_k(a_p) (tilted-law covariances; affine functions
/// have zero Hessian, so no projection is needed), which is better conditioned.
public enum InjectivityCheck {
    /// Runs the log-sum-exp test (and the Hessian test if `options.hessian`) on `measures`.
    public static func run(_ measures: [TokenMeasure], options: InjectivityOptions) -> [InjectivitySpectrum] {
        precondition(!measures.isEmpty, "no token sets")
        let d = measures[0].dimension
        let p = options.directions
        let directions = ProbeDirections.sample(count: p, dimension: d, scales: options.scales, seed: options.seed)
        var results = [logSumExpSpectrum(measures, directions: directions, count: p, dimension: d, tolerance: options.tolerance)]
        if options.hessian {
            // Each direction gives d(d+1)/2 rows: use the first ⌈3P/(4·d(d+1)/2)⌉ directions, so the matrix
            // has about 3P/4 rows (as many as the LSE test's, ≥ 3K at the default P = 4K) and grows with P.
            let perDirection = d * (d + 1) / 2
            let hessianCount = min(p, max(8, (measures.count + perDirection - 1) / perDirection, (3 * p + 4 * perDirection - 1) / (4 * perDirection)))
            results.append(hessianSpectrum(measures, directions: directions, count: hessianCount, dimension: d, tolerance: options.tolerance))
        }
        return results
    }

    /// The affine-projected log-sum-exp matrix (P × K) and its spectrum.
    public static func logSumExpSpectrum(_ measures: [TokenMeasure], directions: [Double], count p: Int, dimension d: Int,
                                         tolerance: Double) -> InjectivitySpectrum {
        let k = measures.count
        let projection = AffineProjection(directions: directions, rows: p, dimension: d)
        var matrix = [Double](repeating: 0, count: p * k)
        let columns = measures.map { measure in
            let column = (0..<p).map { measure.logSumExp(direction: Array(directions[$0 * d ..< ($0 + 1) * d])) }
            let length = AffineProjection.norm(column)
            return projection.residual(length > 0 ? column.map { $0 / length } : column)
        }
        for (j, column) in columns.enumerated() { for i in 0..<p { matrix[i * k + j] = column[i] } }
        return spectrum("log-sum-exp", matrix, rows: p, columns: k, tolerance: tolerance)
    }

    /// The stacked Hessians vec ∇²g_k(a_p) (upper triangle, off-diagonal entries × √2 so the
    /// Euclidean norm is the Frobenius norm) over the first `count` directions, and its spectrum.
    public static func hessianSpectrum(_ measures: [TokenMeasure], directions: [Double], count p: Int, dimension d: Int,
                                       tolerance: Double) -> InjectivitySpectrum {
        let k = measures.count
        let perDirection = d * (d + 1) / 2
        let rows = p * perDirection
        var matrix = [Double](repeating: 0, count: rows * k)
        for (j, measure) in measures.enumerated() {
            var column = [Double](); column.reserveCapacity(rows)
            for q in 0..<p {
                let covariance = measure.tiltedCovariance(direction: Array(directions[q * d ..< (q + 1) * d]))
                for r in 0..<d { for c in r..<d { column.append(covariance[r * d + c] * (r == c ? 1 : 2.0.squareRoot())) } }
            }
            let length = AffineProjection.norm(column)
            for i in 0..<rows { matrix[i * k + j] = length > 0 ? column[i] / length : 0 }
        }
        return spectrum("hessian", matrix, rows: rows, columns: k, tolerance: tolerance)
    }

    /// Singular values, certificate and verdict of a rows × columns matrix with unit-scale columns.
    static func spectrum(_ variant: String, _ matrix: [Double], rows: Int, columns: Int, tolerance: Double) -> InjectivitySpectrum {
        let values = SingularValues.of(matrix, rows: rows, columns: columns)
        let largest = values.first ?? 0
        let smallest = values.count < columns ? 0 : (values.last ?? 0)
        // Nothing left after the projection (all g_k affine): the ratio of rounding errors means nothing.
        let certificate = largest > tolerance ? smallest / largest : 0
        let rank = values.filter { $0 > tolerance * largest && $0 > tolerance }.count
        let injective = rows >= columns && largest > tolerance && certificate > tolerance
        let verdict: String
        if injective {
            verdict = "injective"
        } else if rows < columns {
            verdict = "not injective: only \(rows) rows for \(columns) sets; increase --directions above \(columns)"
        } else if largest <= tolerance {
            verdict = "not injective: every g_k is affine in a (largest singular value \(format(largest)) ≤ tolerance \(format(tolerance)))"
        } else {
            verdict = "not injective: σ_min/σ_max = \(format(certificate)) ≤ tolerance \(format(tolerance)); numerical rank \(rank) of \(columns) sets"
        }
        return InjectivitySpectrum(variant: variant, rows: rows, columns: columns, singularValues: values,
                                   certificate: certificate, numericalRank: rank, injective: injective, verdict: verdict)
    }

    static func format(_ value: Double) -> String { String(format: "%.3g", value) }
}
