import ArgumentParser
import Foundation
import MeanField

/// `meanfield varpro`: two-layer teacher–student training with the outer layer solved exactly by
/// ridge regression at every step (VarPro, theory §3), against single-timescale gradient flow, and the
/// λ → 0 ultra-fast diffusion limit (E5).
struct VarPro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "varpro",
        abstract: "Two-timescale VarPro teacher–student training (theory §3, E5): distance of the features to the teacher and to the λ → 0 PDE.",
        discussion: """
        Student f(x) = (1/m) Σ_j u_j φ(θ_j, x), objective (1/(2λ)) mean (f − y)² + (1/(2m)) Σ (u_j − b)² \
        (b = 0 biased, b = 1 unbiased). varpro: u = u*(θ) by a Cholesky ridge solve every step (primal m×m or \
        dual n×n, whichever is smaller), gradient flow on θ; two-timescale: gradient flow on u (rate λm) and θ. \
        Mean-field time: learning rate m·Δτ, τ = steps·Δτ. relu-circle: φ = max(0, ⟨(cos θ, sin θ), x⟩), \
        x ~ N(0, I₂), teacher density ∝ 1/(1 + γ sin²(θ/2)) + 0.5/(1 + γ sin²((θ − 0.4π)/2)); the ultra-fast \
        diffusion ∂f = −½∂(f ∂(f*/f)²) is solved on a periodic grid. rbf-torus: φ = (2/s²) exp(−|w − x|_per/s) \
        on [0,1)², x uniform, teacher two wrapped bumps. Every width × λ × mode is trained from the same \
        initial features per width.
        Writes DIR/config.json, manifest.json, metrics.jsonl, varpro.json and SVG figures; render with meanfield report DIR.
        Examples:
          meanfield varpro --width 32,128 --lambda 0.01 --steps 2000
          meanfield varpro --features rbf-torus --width 64 --lambda 0.1 --samples 512 --out runs/e5-torus
        """)

    @Option(help: "Feature family: relu-circle or rbf-torus.")
    var features: String = "relu-circle"

    @Option(help: "Comma-separated widths m.")
    var width: String = "32,128"

    @Option(help: "Comma-separated ridge parameters λ (> 0).")
    var lambda: String = "0.01"

    @Option(help: "Comma-separated modes: varpro, two-timescale, stochastic-varpro.")
    var mode: String = "varpro,two-timescale"

    @Option(help: "Regulariser: biased (|u|²) or unbiased ((u − 1)²).")
    var regulariser: String = "unbiased"

    @Option(help: "Euler steps per student.")
    var steps: Int = 2000

    @Option(help: "Δτ, mean-field time per step (default 2⁻¹⁰; the learning rate is m·Δτ).")
    var timeStep: Double = 1.0 / 1024

    @Option(help: "n, full-batch training inputs.")
    var samples: Int = 1024

    @Option(help: "Record metrics every this many steps.")
    var recordEvery: Int = 50

    @Option(help: "γ of the circle teacher density.")
    var teacherGamma: Double = 20

    @Option(help: "Teacher quadrature points (circle: angles; torus: points per side).")
    var teacherGrid: Int?

    @Option(help: "κ of the torus teacher's bumps.")
    var torusConcentration: Double = 6

    @Option(help: "s, scale of the torus features.")
    var rbfScale: Double = 0.2

    @Option(help: "Cells of the λ → 0 PDE solver on the circle (0 = off).")
    var pdeGrid: Int = 256

    @Option(help: "Initial u of two-timescale students: ridge (u*(θ₀), same start as VarPro) or centre (u = b).")
    var twoTimescaleStart: String = "ridge"

    @Option(help: "u learning rate of two-timescale students, in units of m: lambda (λm, theory §3) or same (m, the features' rate: plain gradient flow on both layers).")
    var outerRate: String = "lambda"

    @Option(help: "stochastic-varpro: minibatch size (0 = all n inputs).")
    var batchSize: Int = 0

    @Option(help: "stochastic-varpro: momentum β of u ← β u + (1 − β) u*_batch.")
    var momentum: Double = 0.9

    @Option(help: "Random seed (inputs, initial features).")
    var seed: UInt64 = 0

    @Option(help: "Run directory (default runs/varpro-<time>).")
    var out: String?

    func run() throws {
        let featureKind: VarProFeatureKind = try choice(features, option: "--features")
        let widths = try commaList(width, option: "--width", "is not an integer", example: "e.g. 32,128,512") { Int($0) }
        let lambdas = try commaList(lambda, option: "--lambda", "is not a number", example: "e.g. 0.001,0.01,0.1") { Double($0) }
        let modes = try commaList(mode, option: "--mode", "is unknown", example: "varpro, two-timescale, stochastic-varpro or a comma list") {
            VarProMode(rawValue: $0)
        }
        let regulariserKind: VarProRegulariser = try choice(regulariser, option: "--regulariser")
        guard ["ridge", "centre"].contains(twoTimescaleStart) else {
            throw RunError("--two-timescale-start \(twoTimescaleStart) is unknown; pass ridge or centre")
        }
        let outerRateKind: VarProOuterRate = try choice(outerRate, option: "--outer-rate")
        let config = VarProConfig(features: featureKind, widths: widths, lambdas: lambdas, modes: modes, regulariser: regulariserKind,
                                  steps: steps, timeStep: timeStep, samples: samples, recordEvery: recordEvery, seed: seed,
                                  teacherGamma: teacherGamma, teacherGrid: teacherGrid ?? (featureKind == .reluCircle ? 1024 : 32),
                                  torusConcentration: torusConcentration, rbfScale: rbfScale, pdeCells: pdeGrid,
                                  twoTimescaleStartsAtRidge: twoTimescaleStart == "ridge", outerRate: outerRateKind,
                                  batchSize: batchSize, momentum: momentum)
        try config.validate()
        let path = try runFolder(out, default: "varpro")
        var progress: ProgressLine?
        let results = try exitingAsSignal("varpro") {
            defer { progress?.finish() }
            return try VarProRun.run(config, path: path, stop: StopRequest()) { done, total, label, fields in
                if progress == nil { progress = ProgressLine(total: total) }
                progress?.update(completed: done, fields: "\(label)  \(fields)")
            }
        }
        print("τ = \(Double(steps) * timeStep) (\(steps) steps of Δτ = \(timeStep)), n = \(samples), \(regulariserKind.rawValue) regulariser")
        for series in results.runs {
            var line = "m = \(series.width), λ = \(VarProReport.format(series.lambda)), \(series.mode.rawValue): energy to teacher \(VarProReport.format(series.teacherEnergy.first ?? .nan)) → \(VarProReport.format(series.teacherEnergy.last ?? .nan)), risk \(VarProReport.format(series.risk.last ?? .nan))"
            if let w1 = series.teacherW1.last { line += ", W₁ \(VarProReport.format(w1))" }
            if let pde = series.pdeEnergy.last { line += ", energy to PDE \(VarProReport.format(pde))" }
            line += String(format: ", %.1f s", series.seconds)
            if let failure = series.failure { line += " — stopped: \(failure)" }
            print(line)
        }
        if let pde = results.pde {
            print("PDE (\(pde.cells) cells, \(pde.eulerSteps) Euler steps, mass drift \(VarProReport.format(pde.massDrift))): energy to teacher \(VarProReport.format(pde.teacherEnergy.first ?? .nan)) → \(VarProReport.format(pde.teacherEnergy.last ?? .nan))")
            if let reason = pde.stoppedEarly { print("  warning: \(reason)") }
        }
        print("Run directory: \(path) (meanfield report \(path))")
    }
}
