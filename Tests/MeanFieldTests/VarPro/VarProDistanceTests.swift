// Distances between feature measures (theory §3): the energy distance vanishes on identical
// measures and matches a hand-computed value; circle W1 against the geodesic distance of two Diracs
// and against a rotation of a uniform grid.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct VarProDistanceTests {
    @Test func energyDistanceOfDiracs() {
        // Between δ_x and δ_y the energy distance is 2|x − y|.
        let energy = EnergyDistance(reference: [1, 0], weights: [1], dimension: 2)
        #expect(abs(energy.distance(to: [0, 1]) - 2 * 2.0.squareRoot()) < 1e-14)
        #expect(abs(energy.distance(to: [1, 0])) < 1e-15)
    }

    @Test func energyDistanceOfIdenticalCloudsIsZero() {
        let angles = [0.1, 1.3, 2.0, 4.4, 5.9]
        let map = VarProFeatureMap(kind: .reluCircle)
        let embedded = map.embed(angles)
        let weights = [0.1, 0.2, 0.3, 0.25, 0.15]
        let energy = EnergyDistance(reference: embedded.points, weights: weights, dimension: embedded.dimension)
        #expect(abs(energy.distance(to: embedded.points, weights: weights)) < 1e-14)
        #expect(energy.distance(to: map.embed([0.1, 1.3, 2.0, 4.4, 5.0]).points) > 1e-3)
    }

    @Test func circleW1OfDiracsIsTheGeodesicDistance() {
        #expect(abs(CircleWasserstein.w1([0.2], [1.0]) - 0.8) < 1e-14)
        // Across the seam: 6.0 and 0.3 are 2π − 5.7 apart.
        #expect(abs(CircleWasserstein.w1([6.0], [0.3]) - (2 * .pi - 5.7)) < 1e-12)
        #expect(abs(CircleWasserstein.w1([0.5, 2.0], [0.5, 2.0])) < 1e-15)
    }

    @Test func circleW1OfARotatedUniformGridIsTheShift() {
        // k equally spaced atoms rotated by δ < 2π/k: each atom moves δ.
        let k = 12, delta = 0.1
        let grid = (0..<k).map { 2 * Double.pi * Double($0) / Double(k) }
        #expect(abs(CircleWasserstein.w1(grid, grid.map { $0 + delta }) - delta) < 1e-12)
        // Half the mass of δ_0 + δ_π moved to π/2: W1 = ½ · π/2.
        #expect(abs(CircleWasserstein.w1([0, .pi], masses: [0.5, 0.5], [0, .pi / 2], secondMasses: [0.5, 0.5]) - .pi / 4) < 1e-12)
    }

    @Test func circleW2AgainstClosedForms() {
        #expect(abs(CircleWasserstein.w2([0.2], [1.0]) - 0.8) < 1e-9)
        #expect(abs(CircleWasserstein.w2([6.0], [0.3]) - (2 * .pi - 5.7)) < 1e-9)
        let k = 12, delta = 0.1
        let grid = (0..<k).map { 2 * Double.pi * Double($0) / Double(k) }
        #expect(abs(CircleWasserstein.w2(grid, grid.map { $0 + delta }) - delta) < 1e-9)
        // Half the mass of δ_0 + δ_π moved to π/2: W₂² = ½ (π/2)².
        #expect(abs(CircleWasserstein.w2([0, .pi], masses: [0.5, 0.5], [0, .pi / 2], secondMasses: [0.5, 0.5]) - .pi / (2 * 2.0.squareRoot())) < 1e-9)
        #expect(CircleWasserstein.w2([0.5, 2.0, 4.0], [0.5, 2.0, 4.0]) < 1e-9)
    }

    /// W₁ ≤ W₂ ≤ √(π W₁) on the circle (diameter π), for random clouds.
    @Test func circleW2IsBetweenItsBounds() {
        var generator = PhiloxRandom(seed: 12)
        for _ in 0..<5 {
            let first = (0..<7).map { _ in Double.random(in: 0..<(2 * .pi), using: &generator) }
            let second = (0..<5).map { _ in Double.random(in: 0..<(2 * .pi), using: &generator) }
            let w1 = CircleWasserstein.w1(first, second), w2 = CircleWasserstein.w2(first, second)
            #expect(w1 <= w2 + 1e-9 && w2 <= (Double.pi * w1).squareRoot() + 1e-9, "W1 \(w1), W2 \(w2)")
        }
    }

    /// Equal-size uniform clouds: optimal transport is a matching; brute force over all 120 of them.
    @Test func circleW2MatchesBruteForceMatching() {
        func permutations(_ items: [Int]) -> [[Int]] {
            guard items.count > 1 else { return [items] }
            return items.indices.flatMap { index in
                permutations(Array(items[..<index] + items[(index + 1)...])).map { [items[index]] + $0 }
            }
        }
        func geodesic(_ x: Double, _ y: Double) -> Double {
            let d = abs(x - y).truncatingRemainder(dividingBy: 2 * .pi)
            return min(d, 2 * .pi - d)
        }
        var generator = PhiloxRandom(seed: 21)
        let matchings = permutations(Array(0..<5))
        for _ in 0..<4 {
            let first = (0..<5).map { _ in Double.random(in: 0..<(2 * .pi), using: &generator) }
            let second = (0..<5).map { _ in Double.random(in: 0..<(2 * .pi), using: &generator) }
            let best = matchings.map { matching in
                zip(first.indices, matching).reduce(0) { $0 + pow(geodesic(first[$1.0], second[$1.1]), 2) } / 5
            }.min()!
            #expect(abs(CircleWasserstein.w2(first, second) - best.squareRoot()) < 1e-8)
        }
    }
}

