import Foundation

/// The energy distance between weighted point clouds: the MMD² of the kernel k(x, y) = −|x − y|,
///
///     E(μ, ν) = 2 Σ_ij a_i b_j |x_i − y_j| − Σ_ii' a_i a_i' |x_i − x_i'| − Σ_jj' b_j b_j' |y_j − y_j'|,
///
/// with |·| Euclidean in an embedding (``VarProFeatureMap/embed(_:)``: chordal on the circle and the
/// torus). It is ≥ 0 and zero only for equal measures. The reference's self-term is computed once.
public struct EnergyDistance: Sendable {
    public let reference: [Double]
    public let referenceWeights: [Double]
    public let dimension: Int
    /// Σ_jj' b_j b_j' |y_j − y_j'|.
    public let referenceSelfTerm: Double

    public init(reference: [Double], weights: [Double], dimension: Int) {
        self.reference = reference
        self.referenceWeights = weights
        self.dimension = dimension
        referenceSelfTerm = Self.crossTerm(reference, weights, reference, weights, dimension)
    }

    /// E(μ, reference) for points `points` (count × dimension) with masses `weights` (nil: uniform).
    public func distance(to points: [Double], weights: [Double]? = nil) -> Double {
        let count = points.count / dimension
        let masses = weights ?? [Double](repeating: 1 / Double(count), count: count)
        let cross = Self.crossTerm(points, masses, reference, referenceWeights, dimension)
        let selfTerm = Self.crossTerm(points, masses, points, masses, dimension)
        return 2 * cross - selfTerm - referenceSelfTerm
    }

    static func crossTerm(_ x: [Double], _ a: [Double], _ y: [Double], _ b: [Double], _ d: Int) -> Double {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                var total = 0.0
                for i in 0..<a.count {
                    var row = 0.0
                    for j in 0..<b.count {
                        var squared = 0.0
                        for k in 0..<d {
                            let difference = x[i * d + k] - y[j * d + k]
                            squared += difference * difference
                        }
                        row += b[j] * squared.squareRoot()
                    }
                    total += a[i] * row
                }
                return total
            }
        }
    }
}

/// The 1-Wasserstein distance on the circle R/2πZ with the geodesic (arc-length) cost, exactly:
/// W₁(μ, ν) = min_c ∫₀^{2π} |F_μ(t) − F_ν(t) − c| dt (Werman–Peleg–Rosenfeld; Rabin–Delon–Gousseau),
/// the minimising c a length-weighted median of the piecewise-constant F_μ − F_ν.
public enum CircleWasserstein {
    /// W₁ between angles `first` (`masses`, nil: uniform) and `second` (`secondMasses`); masses must sum to
    /// the same total (normally 1).
    public static func w1(_ first: [Double], masses firstWeights: [Double]? = nil, _ second: [Double], secondMasses secondWeights: [Double]? = nil) -> Double {
        let period = 2 * Double.pi
        var events: [(angle: Double, mass: Double)] = []
        events.reserveCapacity(first.count + second.count)
        let a = firstWeights ?? [Double](repeating: 1 / Double(first.count), count: first.count)
        let b = secondWeights ?? [Double](repeating: 1 / Double(second.count), count: second.count)
        for (angle, mass) in zip(first, a) { events.append((angle - period * (angle / period).rounded(.down), mass)) }
        for (angle, mass) in zip(second, b) { events.append((angle - period * (angle / period).rounded(.down), -mass)) }
        events.sort { $0.angle < $1.angle }
        guard let firstEvent = events.first, let lastEvent = events.last else { return 0 }
        // Intervals between consecutive events carry the running difference of the CDFs; the interval
        // that wraps through 0 carries the value before the first event, 0.
        var pieces: [(value: Double, length: Double)] = [(0, period - lastEvent.angle + firstEvent.angle)]
        var running = 0.0
        for k in 0..<(events.count - 1) {
            running += events[k].mass
            let length = events[k + 1].angle - events[k].angle
            if length > 0 { pieces.append((running, length)) }
        }
        pieces.sort { $0.value < $1.value }
        let half = pieces.reduce(0) { $0 + $1.length } / 2
        var accumulated = 0.0
        var median = pieces[0].value
        for piece in pieces {
            accumulated += piece.length
            if accumulated >= half { median = piece.value; break }
        }
        return pieces.reduce(0) { $0 + $1.length * abs($1.value - median) }
    }
}
