import Foundation
import MeanFieldCore

/// `meanfield diagnose DIR`: reads the runs of a sweep (or any folder of run directories), computes
/// the limit diagnostics of theory §1.5 — coupled width study, depth and weight-decay families,
/// fitted log-log slopes, coordinate check — names the failure signatures of §6, and writes
/// `DIR/diagnostics.json` (``DiagnosticsReport``), which `meanfield report DIR` draws.
public enum LimitDiagnostics {
    /// The run directories under `path`: `path/runs/*` for a sweep, `path/*` for a folder of runs,
    /// or `path` itself for a single run. Throws when there is none.
    public static func runDirectories(in path: String) throws -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("\(path): no such directory; give a sweep directory (meanfield sweep --out) or a run directory")
        }
        if manager.fileExists(atPath: path + "/" + RunFormat.configFile) { return [path] }
        let base = manager.fileExists(atPath: path + "/runs") ? path + "/runs" : path
        let children = ((try? manager.contentsOfDirectory(atPath: base)) ?? []).sorted()
            .map { base + "/" + $0 }
            .filter { manager.fileExists(atPath: $0 + "/" + RunFormat.configFile) }
        guard !children.isEmpty else {
            throw RunError("\(path): no run directories (folders with config.json) in \(base); run meanfield sweep or meanfield train first")
        }
        return children
    }

    /// The evaluation sample of the diagnostics (`meanfield diagnose --eval-size`, ``EvaluationSample``):
    /// a regression run with a smaller `eval-size` is measured on this many draws of its evaluation
    /// stream, an image run with a larger test subset on this many of its test images.
    public static let defaultEvalSize = 1024

    /// All diagnostics of the runs under `path`. Runs without metrics are listed in `skipped`.
    /// Distances are taken on the runs' own evaluation sets, `evalSize` samples
    /// (``EvaluationSample``; 0 = each run's set as it is).
    public static func diagnose(_ path: String, evalSize: Int = defaultEvalSize) throws -> DiagnosticsReport {
        var report = DiagnosticsReport()
        report.evalSize = evalSize
        var runs: [RunRecord] = [], diverged: [RunRecord] = []
        for directory in try runDirectories(in: path) {
            let run = try RunRecord(path: directory)
            if run.metrics.isEmpty {
                // A run that diverged before its first metrics line still gets its signature.
                if run.status == "diverged" { diverged.append(run) } else { report.skipped.append("\(run.name): no metrics yet") }
                continue
            }
            runs.append(run)
        }
        // Distances need checkpoints (θ at common steps); λ families need only the metrics.
        // Diverged runs are left out of every fit (their signature names them).
        let regression = runs.filter { !$0.config.isImageTask && !$0.hasDiverged }
        // The coordinate check reads the Transformer's residual stream on its prompts.
        let checkpointed = regression.filter { !$0.checkpoints.isEmpty && $0.config.model == .transformer }
        // Function-space distances: every model and task (the ViT and ResNets on images, ResNets on teacher regression).
        let measured = runs.filter { !$0.hasDiverged && !$0.checkpoints.isEmpty }
        for run in runs where !run.hasDiverged && run.checkpoints.isEmpty {
            report.skipped.append("\(run.name): no checkpoints, so no distances (run with --checkpoint-every ≥ 1)")
        }
        report.width = try WidthStudy.entries(measured, evalSize: evalSize, skipped: &report.skipped, particleDistances: headDistances)
        report.reference = report.width.first?.reference
        report.depth = ScalingStudies.depthEntries(measured, evalSize: evalSize, skipped: &report.skipped)
        report.decay = ScalingStudies.decayEntries(regression)
        report.fits = WidthStudy.fits(report.width, unfitted: &report.unfitted)
            + ScalingStudies.fits(depth: report.depth, decay: report.decay, unfitted: &report.unfitted)
        let coordinates = try CoordinateCheck.run(checkpointed)
        report.coordinates = coordinates.entries
        report.coordinateFits = coordinates.fits
        report.coordinateFamilies = coordinates.families
        report.linearization = Linearization.entries(measured, evalSize: evalSize, skipped: &report.skipped)
        report.signatures = FailureSignatures.detect(runs: runs + diverged, width: report.width)
        return report
    }

    /// Sliced W2, MMD² (biased, Gaussian kernel at the median bandwidth) and the debiased Sinkhorn
    /// divergence between the head particles of layer `layer` of two stores (``ParticleClouds``,
    /// ``ParticleDistances``); NaN when a cloud is unusable (e.g. non-finite after divergence).
    /// ResNets: the units of layer `layer` (``resNetUnits(_:layer:)``).
    static func headDistances(_ store: ParameterStore<Double>, _ reference: ParameterStore<Double>, layer: Int)
        -> (w2: Double, mmd: Double, sinkhorn: Double) {
        func particles(_ store: ParameterStore<Double>) -> Tensor<Double>? {
            (try? ParticleClouds.heads(store, layer: layer)) ?? resNetUnits(store, layer: layer)
        }
        guard let cloud = particles(store), let referenceCloud = particles(reference),
              let distances = try? ParticleDistances.Distances.between(cloud, referenceCloud) else { return (.nan, .nan, .nan) }
        return (distances.slicedW2, distances.mmdSquaredBiased, distances.sinkhorn)
    }

    /// The `[M, p]` particles of a ResNet layer: row j = (w_j, b_j, u_j) of a two-layer block (theory §4),
    /// θ_j of a random-feature block (§5); nil when the store has no such layer.
    static func resNetUnits(_ store: ParameterStore<Double>, layer: Int) -> Tensor<Double>? {
        let names = [MeanFieldResNet.inName(layer), MeanFieldResNet.biasName(layer), MeanFieldResNet.outName(layer)].filter(store.contains)
        guard let first = names.first else { return nil }
        let particles = store[first].shape[0]
        let tensors = names.map { store[$0] }
        guard tensors.allSatisfy({ $0.rank >= 1 && $0.shape[0] == particles }) else { return nil }
        let widths = tensors.map { $0.count / max(1, particles) }
        var scalars: [Double] = []
        for j in 0..<particles {
            for (tensor, width) in zip(tensors, widths) { scalars += tensor.scalars[(j * width)..<((j + 1) * width)] }
        }
        return Tensor(shape: [particles, widths.reduce(0, +)], scalars: scalars)
    }

    /// One line per fit (with its verdict), coordinate-check family and signature, for the terminal.
    public static func describe(_ report: DiagnosticsReport) -> String {
        var lines: [String] = []
        if !report.width.isEmpty {
            let families = Set(report.width.map(\.family)).count
            lines.append("width study: \(report.width.count) runs against coupled references, \(families) famil\(families == 1 ? "y" : "ies")")
        }
        for fit in report.fits {
            let verdict = (try? fit.decide().text) ?? "no verdict (the interval is not finite)"
            lines.append("\(fit.quantity) vs \(fit.against) (\(fit.family)): \(verdict)")
        }
        for line in report.unfitted { lines.append("no fit: \(line)") }
        for family in report.coordinateFamilies { lines.append(CoordinateCheck.summary(family)) }
        for signature in report.signatures {
            let cause = signature.cause.isEmpty ? "" : " (\(signature.cause))"
            lines.append("⚠ \(signature.name)\(cause): \(signature.message) → \(signature.knob)")
        }
        for entry in report.linearization {
            lines.append(String(format: "%@: distance from the linearized model %.3g ± %.2g at t = %.4g (%@; %d samples)",
                                entry.run, entry.relativeDistance, entry.relativeDistanceSE, entry.t,
                                entry.gamma0.isNaN ? "plain output" : String(format: "γ₀ = %g", entry.gamma0), entry.evalSamples))
        }
        for skipped in report.skipped { lines.append("skipped \(skipped)") }
        return lines.joined(separator: "\n")
    }
}
