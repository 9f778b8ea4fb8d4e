import Foundation

/// The λ → 0 limit of VarPro on the circle (theory §3): the feature density f (w.r.t. dθ, ∫f = 1)
/// follows the ultra-fast diffusion
///
///     ∂_τ f = −½ ∂_θ( f ∂_θ (f*/f)² ),
///
/// the Wasserstein gradient flow of F(f) = ½∫ f*²/f in mean-field time τ. (As λ → 0 the ridge fit
/// forces u·f = f*, so the reduced objective ½∫(u − b)² f tends to ½∫f*²/f − b + b²/2 for either
/// regulariser.) Written as a transport ∂_τ f + ∂_θ(f v) = 0 with velocity v = ½ ∂_θ q², q = f*/f.
///
/// Finite volumes on P periodic cells of width h = 2π/P, cell averages f_i: face velocities
/// v_{i+½} = (q²_{i+1} − q²_i)/(2h), upwind fluxes J_{i+½} = v⁺ f_i + v⁻ f_{i+1}, explicit Euler
/// f_i ← f_i − (Δτ/h)(J_{i+½} − J_{i−½}). The scheme conserves mass exactly (telescoping fluxes),
/// keeps f positive under the step bound Δτ ≤ h / (outgoing speed of any cell), and the linearised
/// diffusivity q² (the flux is −q²∂f + q∂f*) bounds Δτ ≤ h²/(2 max q²); each step takes a safety
/// fraction of the smaller bound. f = f* gives q ≡ 1, v ≡ 0: the teacher is an exact stationary point.
public struct UltraFastDiffusion: Sendable {
    /// Cell averages of the teacher density f* (∫ = 1).
    public let teacher: [Double]
    /// Current cell averages of f.
    public private(set) var density: [Double]
    /// Mean-field time reached.
    public private(set) var time: Double = 0
    /// Euler steps taken.
    public private(set) var steps = 0
    /// Fraction of the stability bound each step uses.
    public var safety: Double = 0.4

    public var cells: Int { density.count }
    public var cellWidth: Double { 2 * .pi / Double(density.count) }
    /// Cell centres (i + ½)h.
    public var centres: [Double] { (0..<cells).map { (Double($0) + 0.5) * cellWidth } }
    /// ∫ f dθ = h Σ f_i.
    public var mass: Double { density.reduce(0, +) * cellWidth }
    /// Masses h f_i of the cells (a probability vector when the mass is 1).
    public var cellMasses: [Double] { density.map { $0 * cellWidth } }

    /// `teacher` and `initial` are cell averages on the same periodic grid; both must be positive.
    public init(teacher: [Double], initial: [Double]) {
        precondition(teacher.count == initial.count && teacher.count >= 3, "UltraFastDiffusion: teacher and initial density need the same ≥ 3 cells")
        precondition(teacher.allSatisfy { $0 > 0 } && initial.allSatisfy { $0 > 0 }, "UltraFastDiffusion: densities must be positive")
        self.teacher = teacher
        self.density = initial
    }

    /// The circle teacher density (theory §3) averaged over P cells (Simpson's rule on each cell),
    /// normalised to ∫ = 1; and the uniform initial density 1/(2π) (students start uniform).
    public static func circleTeacher(gamma: Double, cells: Int) -> [Double] {
        let h = 2 * Double.pi / Double(cells)
        let averages = (0..<cells).map { i -> Double in
            let left = Double(i) * h
            return (VarProTeacher.circleDensity(left, gamma: gamma) + 4 * VarProTeacher.circleDensity(left + h / 2, gamma: gamma)
                + VarProTeacher.circleDensity(left + h, gamma: gamma)) / 6
        }
        let total = averages.reduce(0, +) * h
        return averages.map { $0 / total }
    }

    /// One Euler step of at most `maxStep`; returns the step taken.
    @discardableResult
    public mutating func step(maxStep: Double) -> Double {
        let p = cells, h = cellWidth
        var squaredRatio = [Double](repeating: 0, count: p)
        var largestDiffusivity = 0.0
        for i in 0..<p {
            let q = teacher[i] / density[i]
            squaredRatio[i] = q * q
            largestDiffusivity = max(largestDiffusivity, q * q)
        }
        // Face i+½ between cells i and i+1 (periodic).
        var velocity = [Double](repeating: 0, count: p)
        for i in 0..<p { velocity[i] = (squaredRatio[(i + 1) % p] - squaredRatio[i]) / (2 * h) }
        var largestOutflow = 0.0
        for i in 0..<p {
            // Cell i loses through face i+½ when v > 0 and through face i−½ when v < 0.
            let outflow = max(velocity[i], 0) - min(velocity[(i + p - 1) % p], 0)
            largestOutflow = max(largestOutflow, outflow)
        }
        var dt = safety * h * h / (2 * max(largestDiffusivity, 1e-300))
        if largestOutflow > 0 { dt = min(dt, safety * h / largestOutflow) }
        dt = min(dt, maxStep)
        var flux = [Double](repeating: 0, count: p)
        for i in 0..<p { flux[i] = max(velocity[i], 0) * density[i] + min(velocity[i], 0) * density[(i + 1) % p] }
        for i in 0..<p { density[i] -= dt / h * (flux[i] - flux[(i + p - 1) % p]) }
        time += dt
        steps += 1
        return dt
    }

    /// Integrates to mean-field time `target` (no-op if already there), unless `shouldStop` (asked
    /// every 1,024 steps, so a signal is seen within milliseconds) says to stop or `budget` Euler
    /// steps in all have been taken. Returns whether it reached `target`.
    @discardableResult
    public mutating func advance(to target: Double, budget: Int = .max, shouldStop: () -> Bool = { false }) -> Bool {
        while time < target - 1e-15 * max(1, target) {
            if steps >= budget || (steps % 1024 == 0 && shouldStop()) { return false }
            step(maxStep: target - time)
        }
        return true
    }
}
