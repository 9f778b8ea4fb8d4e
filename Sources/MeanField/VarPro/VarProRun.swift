import Foundation
import MeanFieldCore

/// Configuration of a `meanfield varpro` run (E5, theory §3): one teacher and data set, and a grid of
/// students: every width × λ × mode, all from the same initial features per width.
public struct VarProConfig: Codable, Sendable, Equatable {
    public var features: VarProFeatureKind
    public var widths: [Int]
    public var lambdas: [Double]
    public var modes: [VarProMode]
    public var regulariser: VarProRegulariser
    /// Euler steps per student.
    public var steps: Int
    /// Δτ: mean-field time per step (learning rate m·Δτ).
    public var timeStep: Double
    /// n, full-batch training inputs.
    public var samples: Int
    /// Metrics every this many steps (and at the last step).
    public var recordEvery: Int
    public var seed: UInt64
    /// γ of the circle teacher density (theory §3).
    public var teacherGamma: Double
    /// Quadrature points of the teacher: angles on the circle, points per side on the torus.
    public var teacherGrid: Int
    /// κ of the torus teacher's bumps.
    public var torusConcentration: Double
    /// s of the torus features.
    public var rbfScale: Double
    /// Cells of the ultra-fast diffusion solver (relu-circle only; 0 = not solved).
    public var pdeCells: Int
    /// Two-timescale students start at u*(θ₀) (true) or at the regulariser's centre b.
    public var twoTimescaleStartsAtRidge: Bool
    /// Two-timescale students' u learning rate: λ·m (default) or m (the features' rate).
    public var outerRate: VarProOuterRate
    /// Stochastic VarPro: minibatch size (0 = the whole data set).
    public var batchSize: Int
    /// Stochastic VarPro: momentum β on u.
    public var momentum: Double

    public init(features: VarProFeatureKind = .reluCircle, widths: [Int] = [32, 128], lambdas: [Double] = [0.01],
                modes: [VarProMode] = [.varpro, .twoTimescale], regulariser: VarProRegulariser = .unbiased, steps: Int = 2000,
                timeStep: Double = 1.0 / 1024, samples: Int = 1024, recordEvery: Int = 50, seed: UInt64 = 0,
                teacherGamma: Double = 20, teacherGrid: Int = 1024, torusConcentration: Double = 6, rbfScale: Double = 0.2,
                pdeCells: Int = 256, twoTimescaleStartsAtRidge: Bool = true, outerRate: VarProOuterRate = .lambda,
                batchSize: Int = 0, momentum: Double = 0.9) {
        self.outerRate = outerRate
        self.batchSize = batchSize
        self.momentum = momentum
        self.features = features
        self.widths = widths
        self.lambdas = lambdas
        self.modes = modes
        self.regulariser = regulariser
        self.steps = steps
        self.timeStep = timeStep
        self.samples = samples
        self.recordEvery = recordEvery
        self.seed = seed
        self.teacherGamma = teacherGamma
        self.teacherGrid = teacherGrid
        self.torusConcentration = torusConcentration
        self.rbfScale = rbfScale
        self.pdeCells = pdeCells
        self.twoTimescaleStartsAtRidge = twoTimescaleStartsAtRidge
    }

    /// Decodes config.json / varpro.json; fields added after the first release (two-timescale start,
    /// u rate, minibatch, momentum) take their defaults when absent, so older run directories still load.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(features: try container.decode(VarProFeatureKind.self, forKey: .features),
                  widths: try container.decode([Int].self, forKey: .widths),
                  lambdas: try container.decode([Double].self, forKey: .lambdas),
                  modes: try container.decode([VarProMode].self, forKey: .modes),
                  regulariser: try container.decode(VarProRegulariser.self, forKey: .regulariser),
                  steps: try container.decode(Int.self, forKey: .steps),
                  timeStep: try container.decode(Double.self, forKey: .timeStep),
                  samples: try container.decode(Int.self, forKey: .samples),
                  recordEvery: try container.decode(Int.self, forKey: .recordEvery),
                  seed: try container.decode(UInt64.self, forKey: .seed),
                  teacherGamma: try container.decode(Double.self, forKey: .teacherGamma),
                  teacherGrid: try container.decode(Int.self, forKey: .teacherGrid),
                  torusConcentration: try container.decode(Double.self, forKey: .torusConcentration),
                  rbfScale: try container.decode(Double.self, forKey: .rbfScale),
                  pdeCells: try container.decode(Int.self, forKey: .pdeCells),
                  twoTimescaleStartsAtRidge: try container.decodeIfPresent(Bool.self, forKey: .twoTimescaleStartsAtRidge) ?? true,
                  outerRate: try container.decodeIfPresent(VarProOuterRate.self, forKey: .outerRate) ?? .lambda,
                  batchSize: try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 0,
                  momentum: try container.decodeIfPresent(Double.self, forKey: .momentum) ?? 0.9)
    }

    /// Whether the λ → 0 PDE is solved (circle features with pdeCells > 0).
    public var solvesPDE: Bool { features == .reluCircle && pdeCells > 0 }

    /// Throws a one-line error naming the flag for a value the run cannot use.
    public func validate() throws {
        if widths.isEmpty || widths.contains(where: { $0 < 1 }) { throw RunError("--width \(widths): every width must be at least 1; pass e.g. --width 32,128,512") }
        if lambdas.isEmpty || lambdas.contains(where: { !($0 > 0) || !$0.isFinite }) { throw RunError("--lambda \(lambdas): every λ must be a positive number; pass e.g. --lambda 0.001,0.01,0.1") }
        if modes.isEmpty { throw RunError("--mode: pass varpro, two-timescale or both (varpro,two-timescale)") }
        if steps < 1 { throw RunError("--steps \(steps) must be at least 1") }
        if !(timeStep > 0) || !timeStep.isFinite { throw RunError("--time-step \(timeStep) must be a positive number, e.g. 0.0009765625 (2⁻¹⁰)") }
        if samples < 1 { throw RunError("--samples \(samples) must be at least 1") }
        if recordEvery < 1 { throw RunError("--record-every \(recordEvery) must be at least 1") }
        if !(teacherGamma >= 0) { throw RunError("--teacher-gamma \(teacherGamma) must be ≥ 0") }
        if teacherGrid < 4 { throw RunError("--teacher-grid \(teacherGrid) must be at least 4") }
        if !(rbfScale > 0) { throw RunError("--rbf-scale \(rbfScale) must be positive") }
        if batchSize < 0 { throw RunError("--batch-size \(batchSize) must be ≥ 0 (0 = the whole data set)") }
        if !(momentum >= 0 && momentum < 1) { throw RunError("--momentum \(momentum) must be in [0, 1)") }
        if pdeCells != 0 && pdeCells < 8 { throw RunError("--pde-grid \(pdeCells) must be 0 (off) or at least 8 cells") }
        if !torusConcentration.isFinite || !teacherGamma.isFinite || !rbfScale.isFinite {
            throw RunError("--teacher-gamma, --torus-concentration and --rbf-scale must be finite numbers")
        }
        // Upper bounds (the train keys' bounds and reasons), so that the products below stay inside Int.
        let size = TrainBound.size, count = TrainBound.count
        for (flag, value, bound) in [("--width", widths.max()!, size), ("--samples", samples, size), ("--teacher-grid", teacherGrid, size),
                                     ("--pde-grid", pdeCells, size), ("--batch-size", batchSize, size), ("--steps", steps, count),
                                     ("--record-every", recordEvery, count)] where value > bound.value {
            throw RunError("\(flag) \(value) must be at most \(bound.value) (\(bound.reason))")
        }
        // Memory, in Double, before anything is allocated: per student the features Φ and their
        // gradients (n × m, a few copies), the ridge system (min(m, n)² and its factor); the teacher's
        // quadrature points against the inputs; the records (per record step a few numbers per
        // student and, with the PDE, its density on the cells).
        let n = Double(samples), m = Double(widths.max()!), ridge = min(m, n)
        let teacherPoints = features == .reluCircle ? Double(teacherGrid) : Double(teacherGrid) * Double(teacherGrid)
        let records = Double(steps / recordEvery + 2), students = Double(widths.count * lambdas.count * modes.count)
        let cells = solvesPDE ? Double(pdeCells) : 0
        let bytes = 8 * (6 * n * m + 3 * ridge * ridge + n * teacherPoints + 4 * teacherPoints + records * (10 * students + 3 * cells))
        try MemoryEstimate.check(bytes: bytes, needs: "varpro with m = \(widths.max()!), n = \(samples), \(steps / recordEvery + 1) records",
                                 fix: "lower --width, --samples, --teacher-grid or --steps, or raise --record-every")
    }

    /// The teacher this configuration trains against.
    public func teacher() -> VarProTeacher {
        features == .reluCircle ? .circle(gamma: teacherGamma, grid: teacherGrid)
            : .torus(concentration: torusConcentration, grid: teacherGrid, scale: rbfScale)
    }
}

/// The record of one student (one width, λ, mode) over mean-field time.
public struct VarProSeries: Codable, Sendable {
    public var mode: VarProMode
    public var width: Int
    public var lambda: Double
    public var step: [Int] = []
    public var time: [Double] = []
    public var objective: [Double] = []
    /// ½ mean (f − y)².
    public var risk: [Double] = []
    /// Energy distance (MMD² of k = −|x − y|, chordal) of the student's features to the teacher's.
    public var teacherEnergy: [Double] = []
    /// Exact circle W₁ (geodesic) to the teacher (relu-circle only).
    public var teacherW1: [Double] = []
    /// Energy distance and W₁ to the PDE solution at the same τ (when solved).
    public var pdeEnergy: [Double] = []
    public var pdeW1: [Double] = []
    /// Geodesic W₂ on the circle to the teacher and to the PDE solution (nil in runs made before it was recorded).
    public var teacherW2: [Double]?
    public var pdeW2: [Double]?
    public var seconds: Double = 0
    /// Why the student stopped early (a non-finite objective, a failed ridge solve), nil if it ran to the end.
    public var failure: String?
    /// Final feature parameters (m×p) — the student's measure at the end.
    public var finalParameters: [Double] = []

    public var label: String { "m = \(width), \(mode.rawValue)" }
}

/// The ultra-fast diffusion solution recorded with a run.
public struct VarProPDERecord: Codable, Sendable {
    public var cells: Int
    public var teacher: [Double]
    public var initial: [Double]
    /// Density at the last recorded time.
    public var final: [Double]
    public var time: [Double]
    /// Energy distance and W₁ of the PDE solution to the teacher at the record times.
    public var teacherEnergy: [Double]
    public var teacherW1: [Double]
    public var eulerSteps: Int
    /// max |∫f − 1| over the record times.
    public var massDrift: Double
    /// Why the solve ended before the last record time (its step budget), nil when it reached it.
    public var stoppedEarly: String? = nil
}

/// What varpro.json holds.
public struct VarProResults: Codable, Sendable {
    public var config: VarProConfig
    public var runs: [VarProSeries]
    public var pde: VarProPDERecord?
    public var seconds: Double
}

/// `meanfield varpro`: trains every student of a ``VarProConfig`` and writes the run directory:
/// config.json, manifest.json, metrics.jsonl (one line per record), varpro.json (all series, the PDE
/// solution) and the SVG figures of ``VarProCharts``.
public enum VarProRun {
    /// Progress: (steps done over all students, total steps, current student's label, its last record).
    public typealias Progress = (Int, Int, String, String) -> Void

    /// With a `stop` request, a SIGINT/SIGTERM ends the current student at its next step (recorded as
    /// its failure), skips the remaining ones, writes varpro.json and the figures of what ran, and
    /// throws ``RunInterrupted``.
    public static func run(_ config: VarProConfig, path: String, stop: StopRequest? = nil,
                           progress: Progress = { _, _, _, _ in }) throws -> VarProResults {
        try config.validate()
        let start = Date()
        let teacher = config.teacher()
        var generator = PhiloxRandom(seed: config.seed, stream: 0)
        let inputs = VarProTeacher.inputs(for: config.features, samples: config.samples, generator: &generator)
        let problem = VarProProblem(features: teacher.features, inputs: inputs, targets: teacher.targets(inputs: inputs))
        let embeddedTeacher = teacher.features.embed(teacher.points)
        let teacherEnergy = EnergyDistance(reference: embeddedTeacher.points, weights: teacher.weights, dimension: embeddedTeacher.dimension)
        let recordSteps = Array(stride(from: 0, through: config.steps, by: config.recordEvery)) + (config.steps % config.recordEvery == 0 ? [] : [config.steps])

        let (pdeRecord, pdeReferences) = config.solvesPDE
            ? solvePDE(config, teacher: teacher, teacherEnergy: teacherEnergy, recordSteps: recordSteps, stop: stop) : (nil, [])
        if let signal = stop?.signal {
            throw RunInterrupted(signal: signal, message: "stopped by \(StopRequest.name(of: signal)) while solving the λ → 0 PDE, before any student; nothing was written")
        }
        let measurements = VarProMeasurements(teacher: teacher, teacherEnergy: teacherEnergy, pdeReferences: pdeReferences)

        let directory = try RunDirectory(path: path)
        try directory.writeConfig(config)
        try directory.writeManifest(RunManifest.current(seed: config.seed, scalarType: "f64"))
        let totalSteps = config.widths.count * config.lambdas.count * config.modes.count * config.steps
        var done = 0
        var runs: [VarProSeries] = []
        var stopSignal: Int32?
        students: for width in config.widths {
            var initGenerator = PhiloxRandom(seed: config.seed, stream: UInt64(width))
            let initial = VarProTrainer.uniformParameters(for: teacher.features, width: width, generator: &initGenerator)
            for lambda in config.lambdas {
                for mode in config.modes {
                    if stopSignal != nil { break students }
                    let started = Date()
                    var series = VarProSeries(mode: mode, width: width, lambda: lambda)
                    var trainer = VarProTrainer(problem: problem, initialParameters: initial, lambda: lambda, mode: mode,
                                                regulariser: config.regulariser, timeStep: config.timeStep,
                                                startsAtRidgeSolution: config.twoTimescaleStartsAtRidge, outerRate: config.outerRate,
                                                batchSize: config.batchSize, momentum: config.momentum,
                                                batchGenerator: PhiloxRandom(seed: config.seed, stream: (1 << 32) + UInt64(width)))
                    var recordIndex = 0
                    for step in 0...config.steps {
                        let isRecord = recordIndex < recordSteps.count && recordSteps[recordIndex] == step
                        var evaluated: VarProTrainer.State?
                        if trainer.evaluatesEveryStep || isRecord {
                            do { evaluated = try trainer.evaluate() } catch {
                                series.failure = "step \(step): ridge solve failed (\(error))"
                                break
                            }
                        }
                        guard evaluated?.objective.isFinite ?? true, trainer.parameters.allSatisfy(\.isFinite) else {
                            series.failure = "step \(step): objective \(evaluated?.objective ?? .nan) is not finite (Δτ too large for λ = \(lambda))"
                            break
                        }
                        if isRecord, let state = evaluated {
                            let line = measurements.record(step: step, index: recordIndex, trainer: trainer, state: state, into: &series)
                            try directory.appendMetricsLine(line)
                            progress(done + step, totalSteps, series.label + ", λ = \(lambda)",
                                     String(format: "objective %.3e  energy %.3e", state.objective, series.teacherEnergy.last!))
                            recordIndex += 1
                        }
                        if let signal = stop?.signal {
                            stopSignal = signal
                            series.failure = "stopped by \(StopRequest.name(of: signal)) at step \(step)"
                            break
                        }
                        if step < config.steps {
                            do { try trainer.step() } catch {
                                series.failure = "step \(step): minibatch ridge solve failed (\(error))"
                                break
                            }
                        }
                    }
                    series.finalParameters = trainer.parameters
                    series.seconds = Date().timeIntervalSince(started)
                    if let failure = series.failure {
                        try directory.appendMetricsLine("{\"mode\":\"\(mode.rawValue)\",\"width\":\(width),\"lambda\":\(RunDirectory.jsonNumber(lambda)),\"failure\":\"\(failure.replacingOccurrences(of: "\"", with: "'"))\"}")
                    }
                    done += config.steps
                    runs.append(series)
                }
            }
        }
        let results = VarProResults(config: config, runs: runs, pde: pdeRecord, seconds: Date().timeIntervalSince(start))
        try directory.writeJSON("varpro.json", results)
        for (name, chart) in VarProCharts.all(results) {
            try directory.writeAtomically(name + ".svg", Data(chart.svg(id: name).utf8))
        }
        if let stopSignal {
            throw RunInterrupted(signal: stopSignal, message: "stopped by \(StopRequest.name(of: stopSignal)) after \(runs.count) of \(config.widths.count * config.lambdas.count * config.modes.count) students; \(path)/varpro.json holds what ran (meanfield report \(path))")
        }
        return results
    }

    /// Solves the λ → 0 PDE (theory §3) from the uniform density to every record time; returns its
    /// record and, per record time, the PDE density as weighted cell centres for the students' distances.
    /// The PDE's budget in cell updates (Euler steps × cells): 60× what the default run needs (τ = 1.95
    /// on 256 cells: 32,841 steps, 8.4·10⁶ updates); a horizon that needs more (a huge --time-step or
    /// --steps) stops there and says so in the record, instead of running for hours.
    public static let pdeCellUpdateBudget = 500_000_000

    static func solvePDE(_ config: VarProConfig, teacher: VarProTeacher, teacherEnergy: EnergyDistance,
                         recordSteps: [Int], stop: StopRequest? = nil) -> (VarProPDERecord, [VarProMeasurements.PDEReference]) {
        let teacherDensity = UltraFastDiffusion.circleTeacher(gamma: config.teacherGamma, cells: config.pdeCells)
        let initial = [Double](repeating: 1 / (2 * Double.pi), count: config.pdeCells)
        var pde = UltraFastDiffusion(teacher: teacherDensity, initial: initial)
        let centres = pde.centres
        let embeddedCentres = teacher.features.embed(centres)
        var record = VarProPDERecord(cells: config.pdeCells, teacher: teacherDensity, initial: initial, final: initial, time: [],
                                     teacherEnergy: [], teacherW1: [], eulerSteps: 0, massDrift: 0)
        var references: [VarProMeasurements.PDEReference] = []
        let budget = pdeCellUpdateBudget / config.pdeCells
        for step in recordSteps {
            let target = Double(step) * config.timeStep
            guard pde.advance(to: target, budget: budget, shouldStop: { stop?.signal != nil }) else {
                if stop?.signal == nil {
                    record.stoppedEarly = String(format: "the PDE stopped at τ = %.4g of %.4g: its budget of %d Euler steps on %d cells is spent; lower --time-step or --steps, or --pde-grid 0",
                                                 pde.time, Double(config.steps) * config.timeStep, budget, config.pdeCells)
                }
                break
            }
            let masses = pde.cellMasses
            references.append(.init(centres: centres, masses: masses,
                                    energy: EnergyDistance(reference: embeddedCentres.points, weights: masses, dimension: 2)))
            record.time.append(pde.time)
            record.teacherEnergy.append(teacherEnergy.distance(to: embeddedCentres.points, weights: masses))
            record.teacherW1.append(CircleWasserstein.w1(centres, masses: masses, teacher.points, secondMasses: teacher.weights))
            record.massDrift = max(record.massDrift, abs(pde.mass - 1))
        }
        record.final = pde.density
        record.eulerSteps = pde.steps
        return (record, references)
    }
}

/// What is measured at a record step of a student: objective and risk, distances to the teacher
/// (energy; W₁ on the circle) and to the PDE density at the same τ; appended to the series and
/// returned as one metrics.jsonl line.
struct VarProMeasurements {
    /// The PDE density at one record time: cell centres with their masses.
    struct PDEReference {
        var centres: [Double]
        var masses: [Double]
        var energy: EnergyDistance
    }

    let teacher: VarProTeacher
    let teacherEnergy: EnergyDistance
    /// One per record time; empty when the PDE is not solved.
    let pdeReferences: [PDEReference]

    func record(step: Int, index: Int, trainer: VarProTrainer, state: VarProTrainer.State, into series: inout VarProSeries) -> String {
        let number = RunDirectory.jsonNumber
        let embedded = teacher.features.embed(trainer.parameters)
        series.step.append(step)
        series.time.append(trainer.meanFieldTime)
        series.objective.append(state.objective)
        series.risk.append(state.risk)
        series.teacherEnergy.append(teacherEnergy.distance(to: embedded.points))
        var line = "{\"mode\":\"\(series.mode.rawValue)\",\"width\":\(series.width),\"lambda\":\(number(series.lambda)),\"step\":\(step),\"time\":\(number(trainer.meanFieldTime)),\"objective\":\(number(state.objective)),\"risk\":\(number(state.risk)),\"penalty\":\(number(state.penalty)),\"teacher_energy\":\(number(series.teacherEnergy.last!))"
        if teacher.features.kind == .reluCircle {
            series.teacherW1.append(CircleWasserstein.w1(trainer.parameters, teacher.points, secondMasses: teacher.weights))
            let w2 = CircleWasserstein.w2(trainer.parameters, teacher.points, secondMasses: teacher.weights)
            series.teacherW2 = (series.teacherW2 ?? []) + [w2]
            line += ",\"teacher_w1\":\(number(series.teacherW1.last!)),\"teacher_w2\":\(number(w2))"
        }
        if index < pdeReferences.count {
            let reference = pdeReferences[index]
            series.pdeEnergy.append(reference.energy.distance(to: embedded.points))
            series.pdeW1.append(CircleWasserstein.w1(trainer.parameters, reference.centres, secondMasses: reference.masses))
            let w2 = CircleWasserstein.w2(trainer.parameters, reference.centres, secondMasses: reference.masses)
            series.pdeW2 = (series.pdeW2 ?? []) + [w2]
            line += ",\"pde_energy\":\(number(series.pdeEnergy.last!)),\"pde_w1\":\(number(series.pdeW1.last!)),\"pde_w2\":\(number(w2))"
        }
        return line + "}"
    }
}
