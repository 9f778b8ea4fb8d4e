// Sliced W2 (Sources/MeanField/Metrics/SlicedWasserstein.swift): directions uniform on the sphere,
// translates at |v|/√p, one-point clouds of different sizes.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct SlicedWassersteinTests {
    @Test func directionsAreUnitAndReproducible() {
        let directions = SlicedWasserstein.directions(count: 50, dimension: 7, seed: 9)
        #expect(directions.shape == [50, 7])
        for k in 0..<50 {
            let norm = (0..<7).reduce(0.0) { $0 + directions[k, $1] * directions[k, $1] }
            #expect(abs(norm - 1) < 1e-14)
        }
        #expect(directions == SlicedWasserstein.directions(count: 50, dimension: 7, seed: 9))
        #expect(directions != SlicedWasserstein.directions(count: 50, dimension: 7, seed: 10))
        // Uniform on the sphere: E θθᵀ = I/p.
        let many = SlicedWasserstein.directions(count: 20_000, dimension: 4, seed: 1)
        for (i, j) in [(0, 0), (3, 3), (0, 1), (2, 3)] {
            let moment = (0..<20_000).reduce(0.0) { $0 + many[$1, i] * many[$1, j] } / 20_000
            #expect(abs(moment - (i == j ? 0.25 : 0)) < 0.01, "E θ_\(i) θ_\(j) = \(moment)")
        }
    }

    @Test func translateGivesTheShiftOverRootP() throws {
        let (n, p) = (200, 6)
        var random = PhiloxRandom(seed: 12)
        let cloud: Tensor<Double> = random.normal([n, p])
        let shift = [1.0, -2, 0.5, 0, 3, -1]
        let shifted = Tensor(shape: [n, p], scalars: cloud.scalars.enumerated().map { $0.element + shift[$0.offset % p] })
        let shiftSquared = shift.reduce(0) { $0 + $1 * $1 }
        // Each slice of a translate is the 1-D translate by ⟨θ, v⟩: exact for the drawn directions…
        let directions = SlicedWasserstein.directions(count: 4_000, dimension: p, seed: 3)
        let exact = (0..<4_000).reduce(0.0) { total, k in
            let projection = (0..<p).reduce(0.0) { $0 + directions[k, $1] * shift[$1] }
            return total + projection * projection
        } / 4_000
        let sliced = try SlicedWasserstein.distance(cloud, shifted, directions: directions)
        #expect(abs(sliced * sliced - exact) < 1e-10 * exact)
        // …and |v|²/p in expectation over the sphere (relative sd of the 4,000-direction mean ≈ 2%).
        #expect(abs(sliced * sliced - shiftSquared / Double(p)) < 0.08 * shiftSquared / Double(p),
                "SW2² \(sliced * sliced) vs |v|²/p = \(shiftSquared / Double(p))")
        #expect(try SlicedWasserstein.distance(cloud, cloud, directions: 16, seed: 1) == 0)
    }

    @Test func differentSizesAndBadInput() throws {
        // One point per cloud, different sizes via repetition: SW2² = mean ⟨θ, x − y⟩².
        let a = Tensor<Double>(shape: [1, 2], scalars: [0, 0])
        let b = Tensor<Double>(shape: [3, 2], scalars: [3, 4, 3, 4, 3, 4])
        let directions = SlicedWasserstein.directions(count: 10, dimension: 2, seed: 0)
        let expected = (0..<10).reduce(0.0) { let d = 3 * directions[$1, 0] + 4 * directions[$1, 1]; return $0 + d * d } / 10
        #expect(abs(try SlicedWasserstein.distance(a, b, directions: directions) - expected.squareRoot()) < 1e-12)
        #expect(throws: RunError.self) { try SlicedWasserstein.distance(a, Tensor(shape: [1, 3], scalars: [0, 0, 0])) }
        #expect(throws: RunError.self) { try SlicedWasserstein.distance(a, Tensor(shape: [2], scalars: [0, 0])) }
        #expect(throws: RunError.self) { try SlicedWasserstein.distance(a, b, directions: 0) }
    }
}
