// The λ → 0 limit PDE of VarPro (theory §3) on the circle: exact mass conservation, positivity,
// the teacher as a stationary point, and convergence toward the teacher from the uniform density.
import Foundation
import MeanField
import Testing

@Suite struct VarProUltraFastDiffusionTests {
    static let cells = 64
    static let teacher = UltraFastDiffusion.circleTeacher(gamma: 10, cells: cells)
    static let uniform = [Double](repeating: 1 / (2 * Double.pi), count: cells)

    static func l1(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } * 2 * .pi / Double(a.count)
    }

    @Test func teacherIsStationary() {
        var pde = UltraFastDiffusion(teacher: Self.teacher, initial: Self.teacher)
        pde.advance(to: 0.5)
        #expect(Self.l1(pde.density, Self.teacher) < 1e-13)
        #expect(abs(pde.time - 0.5) < 1e-12)
    }

    /// An unbounded horizon is bounded: the step budget and the stop request end the loop, and it
    /// says it did not reach the target; without them the same call reaches it.
    @Test func aHugeHorizonStopsAtItsBudgetOrAStopRequest() {
        var pde = UltraFastDiffusion(teacher: Self.teacher, initial: Self.uniform)
        let reachedWithBudget = pde.advance(to: 1e9, budget: 1000)
        #expect(!reachedWithBudget && pde.steps == 1000 && pde.time < 1e9 && abs(pde.mass - 1) < 1e-12)
        var asked = 0
        let reachedWithStop = pde.advance(to: 1e9, shouldStop: { asked += 1; return asked == 3 })
        #expect(!reachedWithStop && pde.steps == 3 * 1024 && asked == 3)  // asked at steps 1024, 2048 and 3072
        var short = UltraFastDiffusion(teacher: Self.teacher, initial: Self.uniform)
        let reached = short.advance(to: 0.01, budget: 1_000_000)
        #expect(reached && abs(short.time - 0.01) < 1e-12)
    }

    @Test func massIsConservedAndDensityStaysPositive() {
        var pde = UltraFastDiffusion(teacher: Self.teacher, initial: Self.uniform)
        #expect(abs(pde.mass - 1) < 1e-13)
        for target in stride(from: 0.05, through: 0.5, by: 0.05) {
            pde.advance(to: target)
            #expect(abs(pde.mass - 1) < 1e-12, "mass \(pde.mass) at τ = \(target)")
            #expect(pde.density.allSatisfy { $0 > 0 })
        }
    }

    @Test func convergesTowardTheTeacher() {
        var pde = UltraFastDiffusion(teacher: Self.teacher, initial: Self.uniform)
        var distances = [Self.l1(pde.density, Self.teacher)]
        for target in [0.1, 0.3, 1.0, 3.0] {
            pde.advance(to: target)
            distances.append(Self.l1(pde.density, Self.teacher))
        }
        #expect(zip(distances, distances.dropFirst()).allSatisfy { $1 < $0 }, "L1 distances \(distances)")
        #expect(distances.last! < 0.25 * distances.first!, "L1 distances \(distances)")
    }
}
