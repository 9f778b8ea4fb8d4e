// Exact Wasserstein distances between measures on the real line (exact 1-D W2: the reference the
// approximate distances between particle measures are tested against).
import Foundation

/// Exact `W_q` (q ≥ 1; W1 and W2 named) between two discrete measures on R,
/// `α = Σ_i a_i δ_{x_i}`, `β = Σ_j b_j δ_{y_j}`, with optional non-negative weights (normalized to
/// total mass 1; uniform when omitted).
///
/// On the line the optimal plan is the monotone (quantile) coupling:
/// `W_q^q(α, β) = ∫_0^1 |F_α^{-1}(t) − F_β^{-1}(t)|^q dt` (Villani, *Topics in OT*, Thm 2.18;
/// Peyré & Cuturi, *Computational OT*, Remark 2.30). Both quantile functions are step functions, so the
/// integral is a finite sum over the merged breakpoints of the two CDFs: walk both sorted supports,
/// move `min(remaining a_i, remaining b_j)` mass from `x_i` to `y_j`, advance whichever is exhausted.
/// For two uniform measures with the same number of points this is the sorted pairing
/// `(1/n) Σ_i |x_(i) − y_(i)|^q`, which is used directly.
public enum Wasserstein1D {
    /// `W_q^q`: the optimal transport cost with cost `|x − y|^q` (for q = 2, the squared W2).
    /// - Throws: ``RunError`` for an empty measure, weights of the wrong length, negative or
    ///   non-finite weights or values, zero total mass, or `q < 1`.
    public static func cost(_ x: [Double], _ y: [Double], weightsX: [Double]? = nil, weightsY: [Double]? = nil,
                            order q: Double = 2) throws -> Double {
        guard q >= 1, q.isFinite else { throw RunError("1-D Wasserstein: the order q must be ≥ 1, got \(q)") }
        let first = try measure(x, weightsX, name: "the first measure")
        let second = try measure(y, weightsY, name: "the second measure")
        func power(_ distance: Double) -> Double {
            q == 2 ? distance * distance : q == 1 ? distance : Foundation.pow(distance, q)
        }
        if weightsX == nil, weightsY == nil, x.count == y.count {
            // Equal-size uniform measures: the sorted pairing.
            var total = 0.0
            for (u, v) in zip(first.points, second.points) { total += power(abs(u - v)) }
            return total / Double(x.count)
        }
        // General case: the merge of the two CDFs (quantile coupling).
        let (xs, a) = first, (ys, b) = second
        var i = 0, j = 0, restA = a[0], restB = b[0], total = 0.0
        while i < xs.count && j < ys.count {
            let distance = power(abs(xs[i] - ys[j]))
            if restA <= restB {
                total += restA * distance
                restB -= restA
                i += 1
                if i < xs.count { restA = a[i] }
            } else {
                total += restB * distance
                restA -= restB
                j += 1
                if j < ys.count { restB = b[j] }
            }
        }
        return total
    }

    /// `W2 = sqrt(∫ |F_α^{-1} − F_β^{-1}|²)`, exact; see ``cost(_:_:weightsX:weightsY:order:)``.
    public static func w2(_ x: [Double], _ y: [Double], weightsX: [Double]? = nil, weightsY: [Double]? = nil) throws -> Double {
        try cost(x, y, weightsX: weightsX, weightsY: weightsY, order: 2).squareRoot()
    }

    /// `W1 = ∫ |F_α^{-1} − F_β^{-1}| = ∫ |F_α − F_β|`, exact; see ``cost(_:_:weightsX:weightsY:order:)``.
    public static func w1(_ x: [Double], _ y: [Double], weightsX: [Double]? = nil, weightsY: [Double]? = nil) throws -> Double {
        try cost(x, y, weightsX: weightsX, weightsY: weightsY, order: 1)
    }

    /// The support sorted ascending with its weights normalized to sum 1 (zero-weight points dropped).
    private static func measure(_ values: [Double], _ weights: [Double]?, name: String) throws -> (points: [Double], weights: [Double]) {
        guard !values.isEmpty else { throw RunError("1-D Wasserstein: \(name) has no points") }
        guard values.allSatisfy(\.isFinite) else { throw RunError("1-D Wasserstein: \(name) holds NaN or infinite values") }
        guard let weights else {
            return (values.sorted(), [Double](repeating: 1 / Double(values.count), count: values.count))
        }
        guard weights.count == values.count else {
            throw RunError("1-D Wasserstein: \(name) has \(values.count) points but \(weights.count) weights")
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw RunError("1-D Wasserstein: \(name) has a negative or non-finite weight; weights are masses")
        }
        let mass = weights.reduce(0, +)
        guard mass > 0 else { throw RunError("1-D Wasserstein: \(name) has total weight 0") }
        let order = values.indices.filter { weights[$0] > 0 }.sorted { values[$0] < values[$1] }
        return (order.map { values[$0] }, order.map { weights[$0] / mass })
    }
}
