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

    /// All diagnostics of the runs under `path`. Runs without metrics are listed in `skipped`.
    public static func diagnose(_ path: String) throws -> DiagnosticsReport {
        var report = DiagnosticsReport()
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
        // Function-space distances probe the Transformer on its prompts; ResNet runs get the λ families and signatures.
        let checkpointed = regression.filter { !$0.checkpoints.isEmpty && $0.config.model == .transformer }
        for run in runs where run.config.isImageTask { report.skipped.append("\(run.name): image task (distances are computed for icl-regression)") }
        for run in regression where run.config.model != .transformer {
            report.skipped.append("\(run.name): \(run.config.model.rawValue) run (distances are computed for the Transformer)")
        }
        for run in regression where run.checkpoints.isEmpty && run.config.model == .transformer {
            report.skipped.append("\(run.name): no checkpoints, so no distances (run with --checkpoint-every ≥ 1)")
        }
        report.width = try WidthStudy.entries(checkpointed, particleDistances: headDistances)
        report.reference = report.width.first?.reference
        report.depth = try ScalingStudies.depthEntries(checkpointed)
        report.decay = ScalingStudies.decayEntries(regression)
        report.fits = WidthStudy.fits(report.width, unfitted: &report.unfitted)
            + ScalingStudies.fits(depth: report.depth, decay: report.decay, unfitted: &report.unfitted)
        let coordinates = try CoordinateCheck.run(checkpointed)
        report.coordinates = coordinates.entries
        report.coordinateFits = coordinates.fits
        report.coordinateFamilies = coordinates.families
        report.signatures = FailureSignatures.detect(runs: runs + diverged, width: report.width)
        return report
    }

    /// Sliced W2, MMD² (biased, Gaussian kernel at the median bandwidth) and the debiased Sinkhorn
    /// divergence between the head particles of layer `layer` of two stores (``ParticleClouds``,
    /// ``ParticleDistances``); NaN when a cloud is unusable (e.g. non-finite after divergence).
    static func headDistances(_ store: ParameterStore<Double>, _ reference: ParameterStore<Double>, layer: Int)
        -> (w2: Double, mmd: Double, sinkhorn: Double) {
        guard let cloud = try? ParticleClouds.heads(store, layer: layer), let referenceCloud = try? ParticleClouds.heads(reference, layer: layer),
              let distances = try? ParticleDistances.Distances.between(cloud, referenceCloud) else { return (.nan, .nan, .nan) }
        return (distances.slicedW2, distances.mmdSquaredBiased, distances.sinkhorn)
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
        for skipped in report.skipped { lines.append("skipped \(skipped)") }
        return lines.joined(separator: "\n")
    }
}
