// Distances between feature measures (PAPERS §3): the energy distance vanishes on identical
// measures and matches a hand-computed value; circle W1 against the geodesic distance of two Diracs
// and against a rotation of a uniform grid.
import Foundation
import MeanField
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
}
