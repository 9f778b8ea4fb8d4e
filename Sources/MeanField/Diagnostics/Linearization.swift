import Foundation
import MeanFieldCore

extension DiagnosticsReport {
    /// How far a trained run is from its linearized model (theory §1.6): lazy training (≈ 0) against
    /// feature learning (of order one).
    public struct LinearizationEntry: Codable, Sendable {
        public var run: String
        public var task: String
        public var model: String
        /// Width M (`heads`) or units per layer (`units`, ResNets), as `widthKey` says.
        public var width: Int
        public var widthKey: String
        public var layers: Int
        public var seed: Int
        public var lr: Double
        /// γ₀ of a centred run; NaN for the plain output.
        public var gamma0: Double
        /// The checkpoint measured (the run's last) and its mean-field time.
        public var step: Int
        public var t: Double
        /// Samples of the evaluation set (``EvaluationSample``).
        public var evalSamples: Int
        /// ρ_lin = ‖f_θ − f_lin‖ / ‖f_θ − f_θ₀‖ on the evaluation set, and its standard error (delta method).
        public var relativeDistance: Double
        public var relativeDistanceSE: Double
        /// ‖f_θ − f_θ₀‖ (RMS over the samples of |·|): how far the function moved.
        public var functionChange: Double
        /// ‖f_lin − f_θ₀‖ = ‖J_θ₀ (θ − θ₀)‖: how far the linearized model moved.
        public var linearChange: Double
        /// ρ_lin at earlier checkpoints (mean-field time and value), ending with `step`'s.
        public var curveT: [Double]
        public var curveRelativeDistance: [Double]

        enum CodingKeys: String, CodingKey {
            case run, task, model, width, layers, seed, lr, gamma0, step, t
            case widthKey = "width_key", evalSamples = "eval_samples", relativeDistance = "relative_distance"
            case relativeDistanceSE = "relative_distance_se", functionChange = "function_change", linearChange = "linear_change"
            case curveT = "curve_t", curveRelativeDistance = "curve_relative_distance"
        }
    }
}

extension DiagnosticsReport.LinearizationEntry {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(run: c.lenientText(.run), task: c.lenientText(.task), model: c.lenientText(.model), width: c.lenientInteger(.width),
                  widthKey: c.lenient(.widthKey, "heads"), layers: c.lenientInteger(.layers), seed: c.lenientInteger(.seed),
                  lr: c.lenientNumber(.lr), gamma0: c.lenientNumber(.gamma0), step: c.lenientInteger(.step), t: c.lenientNumber(.t),
                  evalSamples: c.lenientInteger(.evalSamples), relativeDistance: c.lenientNumber(.relativeDistance),
                  relativeDistanceSE: c.lenientNumber(.relativeDistanceSE), functionChange: c.lenientNumber(.functionChange),
                  linearChange: c.lenientNumber(.linearChange), curveT: c.lenient(.curveT, []),
                  curveRelativeDistance: c.lenient(.curveRelativeDistance, []))
    }
}

/// The distance of a trained model from its linearization around θ₀ (theory §1.6):
///
///     f_lin(x) = f_θ₀(x) + ∂_θ f_θ₀(x) · (θ − θ₀),     ρ_lin = ‖f_θ − f_lin‖ / ‖f_θ − f_θ₀‖,
///
/// ‖g‖² = (1/n) Σ_x |g(x)|² over the run's evaluation set, θ every trained parameter. The
/// Jacobian-vector product J v (v = θ − θ₀) is a central difference along v in Double with one
/// Richardson step, J v = (4 D(s/2) − D(s))/3 + O(s⁴), D(s) = (f(θ₀ + s v) − f(θ₀ − s v))/(2s),
/// s = ``step``: four forward passes.
enum Linearization {
    /// The finite-difference step s, as a fraction of θ − θ₀.
    static let step = 1e-3
    /// Checkpoints measured per run (the last and up to this many earlier ones, evenly spaced).
    static let curvePoints = 5

    /// One entry per run that has a checkpoint after step 0 (diverged runs are left out).
    static func entries(_ runs: [RunRecord], evalSize: Int = 0, skipped: inout [String]) -> [DiagnosticsReport.LinearizationEntry] {
        var entries: [DiagnosticsReport.LinearizationEntry] = []
        for run in runs where run.status != "diverged" {
            let steps = run.checkpoints.map(\.step).filter { $0 > 0 }.sorted()
            guard let last = steps.last else { continue }
            do {
                let probe = try ModelProbe(run: run, evalSize: evalSize)
                let initial = try run.state(atStep: 0).store
                let initialOutputs = probe.predictions(initial)
                var curveT: [Double] = [], curveValues: [Double] = []
                var final: Measurement?, finalTime = 0.0
                for step in thinned(steps, to: curvePoints) {
                    let (store, time) = try run.state(atStep: step)
                    let measurement = measure(probe, initial: initial, initialOutputs: initialOutputs, store: store)
                    curveT.append(time)
                    curveValues.append(measurement.relative)
                    if step == last { (final, finalTime) = (measurement, time) }
                }
                guard let final else { continue }
                entries.append(.init(run: run.name, task: run.config.task, model: run.config.model.rawValue, width: WidthStudy.width(run.config),
                                     widthKey: WidthStudy.widthKey(run.config), layers: run.config.layers, seed: Int(run.config.seed),
                                     lr: run.config.lr, gamma0: run.config.gamma0 ?? .nan, step: last, t: finalTime,
                                     evalSamples: probe.sample.count, relativeDistance: final.relative, relativeDistanceSE: final.standardError,
                                     functionChange: final.change, linearChange: final.linearChange, curveT: curveT,
                                     curveRelativeDistance: curveValues))
            } catch {
                skipped.append("\(run.name): no linearization distance (\(error))")
            }
        }
        return entries
    }

    /// Up to `count` of `steps` (sorted), evenly spaced, always with the last.
    static func thinned(_ steps: [Int], to count: Int) -> [Int] {
        guard steps.count > count else { return steps }
        return (1...count).map { steps[($0 * steps.count) / count - 1] }
    }

    struct Measurement {
        /// ρ_lin and its standard error; ‖f_θ − f_θ₀‖; ‖J v‖.
        var relative: Double, standardError: Double, change: Double, linearChange: Double
    }

    /// ρ_lin of `store` against θ₀ = `initial` on the probe's sample (`initialOutputs` = f_θ₀).
    static func measure(_ probe: ModelProbe, initial: ParameterStore<Double>, initialOutputs: [Double],
                        store: ParameterStore<Double>) -> Measurement {
        let outputs = probe.predictions(store)
        let direction = difference(store, initial)
        func centralDifference(_ s: Double) -> [Double] {
            let plus = probe.predictions(moved(initial, along: direction, by: s))
            let minus = probe.predictions(moved(initial, along: direction, by: -s))
            return zip(plus, minus).map { ($0 - $1) / (2 * s) }
        }
        let coarse = centralDifference(step), fine = centralDifference(step / 2)
        let linear = zip(initialOutputs, zip(fine, coarse)).map { f0, pair in f0 + (4 * pair.0 - pair.1) / 3 }
        let residual = probe.squaredDistances(outputs, linear)       // |f_θ − f_lin|² per sample
        let change = probe.squaredDistances(outputs, initialOutputs)  // |f_θ − f_θ₀|² per sample
        let linearChange = probe.squaredDistances(linear, initialOutputs)
        let n = Double(change.count)
        let a = residual.reduce(0, +) / n, b = change.reduce(0, +) / n
        guard b > 0 else { return Measurement(relative: .nan, standardError: .nan, change: 0, linearChange: (linearChange.reduce(0, +) / n).squareRoot()) }
        let ratio = a / b
        // Delta method: r = ā/b̄ has influence (a_x − r b_x)/b̄; SE(√r) = SE(r)/(2√r).
        let ratioSE = meanAndStandardError(zip(residual, change).map { ($0 - ratio * $1) / b }).standardError
        let relative = ratio.squareRoot()
        return Measurement(relative: relative, standardError: relative > 0 ? ratioSE / (2 * relative) : ratioSE.squareRoot(),
                           change: b.squareRoot(), linearChange: (linearChange.reduce(0, +) / n).squareRoot())
    }

    /// θ − θ₀, parameter by parameter.
    static func difference(_ store: ParameterStore<Double>, _ initial: ParameterStore<Double>) -> ParameterStore<Double> {
        var result = ParameterStore<Double>()
        for name in initial.names {
            let a = store[name], b = initial[name]
            result.set(name, Tensor(shape: b.shape, scalars: zip(a.scalars, b.scalars).map { $0 - $1 }), flowScale: initial.flowScales[name] ?? 1)
        }
        return result
    }

    /// θ₀ + s·v.
    static func moved(_ initial: ParameterStore<Double>, along direction: ParameterStore<Double>, by s: Double) -> ParameterStore<Double> {
        var result = ParameterStore<Double>()
        for name in initial.names {
            let base = initial[name]
            result.set(name, Tensor(shape: base.shape, scalars: zip(base.scalars, direction[name].scalars).map { $0 + s * $1 }),
                       flowScale: initial.flowScales[name] ?? 1)
        }
        return result
    }
}
