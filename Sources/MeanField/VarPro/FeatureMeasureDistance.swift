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

extension CircleWasserstein {
    /// The 2-Wasserstein distance on the circle with the geodesic cost (Delon–Salomon–Sobolevski):
    /// W₂²(μ, ν) = min_θ ∫₀¹ |Q_μ(t) − Q_ν(t + θ)|² dt, Q the quantile functions of the measures
    /// lifted to R (Q(s + 1) = Q(s) + 2π). The cost of one θ is exact (piecewise-constant quantiles,
    /// merged breakpoints); θ is found by a scan of 64 values on [−1, 1] and a golden-section search
    /// around the best, so the result is an upper bound that is exact up to the search tolerance (1e-10 in θ).
    public static func w2(_ first: [Double], masses firstWeights: [Double]? = nil, _ second: [Double], secondMasses secondWeights: [Double]? = nil) -> Double {
        let a = Lifted(first, firstWeights), b = Lifted(second, secondWeights)
        func cost(_ shift: Double) -> Double {
            // Breakpoints in t ∈ [0, 1): those of Q_μ and the fractional parts of B_l − θ.
            var breakpoints = Array(a.cumulative.dropFirst().dropLast())
            for value in b.cumulative.dropLast() {
                let t = value - shift
                breakpoints.append(t - t.rounded(.down))
            }
            breakpoints.append(0)
            breakpoints.append(1)
            breakpoints.sort()
            var total = 0.0
            for k in 0..<(breakpoints.count - 1) {
                let length = breakpoints[k + 1] - breakpoints[k]
                guard length > 0 else { continue }
                let middle = (breakpoints[k] + breakpoints[k + 1]) / 2
                let difference = a.quantile(middle) - b.quantile(middle + shift)
                total += length * difference * difference
            }
            return total
        }
        let scan = (0...64).map { -1 + 2 * Double($0) / 64 }
        let best = scan.min { cost($0) < cost($1) }!
        var low = best - 2.0 / 64, high = best + 2.0 / 64
        let ratio = (5.0.squareRoot() - 1) / 2
        var left = high - ratio * (high - low), right = low + ratio * (high - low)
        var costLeft = cost(left), costRight = cost(right)
        while high - low > 1e-10 {
            if costLeft < costRight {
                high = right; right = left; costRight = costLeft
                left = high - ratio * (high - low); costLeft = cost(left)
            } else {
                low = left; left = right; costLeft = costRight
                right = low + ratio * (high - low); costRight = cost(right)
            }
        }
        return min(cost(best), costLeft, costRight).squareRoot()
    }

    /// A measure on the circle as sorted angles in [0, 2π) with cumulative masses 0 = C₀ < … < C_n = 1.
    private struct Lifted {
        var angles: [Double] = []
        var cumulative: [Double] = [0]

        init(_ points: [Double], _ weights: [Double]?) {
            let period = 2 * Double.pi
            let masses = weights ?? [Double](repeating: 1 / Double(points.count), count: points.count)
            let total = masses.reduce(0, +)
            let sorted = zip(points, masses).map { ($0 - period * ($0 / period).rounded(.down), $1 / total) }.sorted { $0.0 < $1.0 }
            var running = 0.0
            for (angle, mass) in sorted where mass > 0 {
                angles.append(angle)
                running += mass
                cumulative.append(running)
            }
            cumulative[cumulative.count - 1] = 1
        }

        /// Q(s) for any real s: the angle whose mass interval holds the fractional part of s, plus 2π⌊s⌋.
        func quantile(_ s: Double) -> Double {
            let turns = s.rounded(.down)
            let fraction = s - turns
            var low = 0, high = angles.count - 1
            // The first k with cumulative[k + 1] > fraction.
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle + 1] > fraction { high = middle } else { low = middle + 1 }
            }
            return angles[low] + 2 * Double.pi * turns
        }
    }
}
