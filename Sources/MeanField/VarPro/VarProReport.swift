import Foundation

/// The `meanfield report` page of a varpro run directory (one with varpro.json): configuration and
/// provenance, a table of the final numbers per student, and the figures of ``VarProCharts``
/// (E5, theory §3).
public enum VarProReport {
    /// Whether `path` holds a varpro run.
    public static func isVarProRun(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/varpro.json")
    }

    /// A compact number: 3 significant digits.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.3g", value)
    }

    /// Reads `path`/varpro.json (one-line error if unreadable) and builds the page.
    public static func page(path: String) throws -> HTMLPage {
        let file = path + "/varpro.json"
        guard let data = FileManager.default.contents(atPath: file),
              let results = try? RunFormat.decoder().decode(VarProResults.self, from: data) else {
            throw RunError("\(file): not a varpro result; rerun meanfield varpro --out \(path)")
        }
        let manifest = (try? RunFolder.readManifest(in: path)) ?? nil
        return page(results, name: URL(fileURLWithPath: path).lastPathComponent, manifest: manifest)
    }

    /// The page for already-loaded results.
    public static func page(_ results: VarProResults, name: String, manifest: RunManifest? = nil) -> HTMLPage {
        let config = results.config
        var page = HTMLPage(title: "VarPro teacher–student: \(name)",
                            subtitle: "\(config.features.rawValue), n = \(config.samples), \(config.steps) steps of Δτ = \(format(config.timeStep)) (τ = \(format(Double(config.steps) * config.timeStep))), \(config.regulariser.rawValue) regulariser")
        var overview = HTMLPage.Section(id: "overview", title: "Configuration")
        var pairs: [(String, String)] = [
            ("features", config.features.rawValue), ("widths m", config.widths.map(String.init).joined(separator: ", ")),
            ("λ", config.lambdas.map(format).joined(separator: ", ")), ("modes", config.modes.map(\.rawValue).joined(separator: ", ")),
            ("regulariser", config.regulariser.rawValue), ("samples n", "\(config.samples)"), ("steps", "\(config.steps)"),
            ("time step Δτ", format(config.timeStep)), ("record every", "\(config.recordEvery) steps"),
            ("teacher", config.features == .reluCircle ? "γ = \(format(config.teacherGamma)), \(config.teacherGrid) quadrature angles"
                : "κ = \(format(config.torusConcentration)), \(config.teacherGrid)² grid, s = \(format(config.rbfScale))"),
            ("two-timescale start", config.twoTimescaleStartsAtRidge ? "u*(θ₀)" : "u = b"),
            ("two-timescale u rate", config.outerRate == .lambda ? "λm" : "m (same as θ)"),
            ("stochastic VarPro", config.modes.contains(.stochasticVarPro) ? "batch \(config.batchSize == 0 ? config.samples : config.batchSize), momentum β = \(format(config.momentum))" : "—"),
            ("PDE cells", config.solvesPDE ? "\(config.pdeCells)" : "not solved"), ("seed", "\(config.seed)"),
            ("wall time", String(format: "%.1f s", results.seconds))]
        pairs += manifest?.provenance.filter { ["git commit", "threads", "CPU", "started at"].contains($0.label) } ?? []
        overview.keyValues(pairs, caption: "Configuration and provenance")
        overview.paragraph("Objective J = (1/(2λ)) mean (f − y)² + (1/(2m)) Σ (u − b)², f = (1/m) Σ u_j φ(θ_j, ·) (theory §3). VarPro sets u = u*(θ) = b + (ΦᵀΦ/(nm) + λI)⁻¹Φᵀ(y − Φb/m)/n every step; two-timescale trains u by gradient with rate λm. Distances: energy distance (MMD² of k = −|x − y|, chordal embedding) and geodesic W₁ (exact) and W₂ on the circle, to the teacher's quadrature measure and to the ultra-fast diffusion PDE solution at the same τ.")
        page.add(overview)

        var table = HTMLPage.Section(id: "final", title: "Final values")
        let rows: [[String]] = results.runs.map { series in
            [series.mode.rawValue, "\(series.width)", format(series.lambda), format(series.teacherEnergy.first ?? .nan),
             format(series.teacherEnergy.last ?? .nan), format(series.teacherW1.last ?? .nan), format(series.teacherW2?.last ?? .nan),
             format(series.risk.last ?? .nan),
             format(series.objective.last ?? .nan), format(series.pdeEnergy.last ?? .nan), String(format: "%.1f", series.seconds),
             series.failure ?? "—"]
        }
        table.table(headers: ["mode", "m", "λ", "energy to teacher (τ = 0)", "energy to teacher (end)", "W₁ to teacher (end)", "W₂ to teacher (end)", "risk (end)",
                              "objective (end)", "energy to PDE (end)", "seconds", "failure"],
                    rows: rows, numeric: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        if let pde = results.pde {
            table.paragraph("PDE: \(pde.cells) cells, \(pde.eulerSteps) explicit Euler steps, mass drift \(format(pde.massDrift)); energy distance of the PDE density to the teacher \(format(pde.teacherEnergy.first ?? .nan)) → \(format(pde.teacherEnergy.last ?? .nan)).")
        }
        page.add(table)

        var figures = HTMLPage.Section(id: "figures", title: "Figures")
        for (name, chart) in VarProCharts.all(results) {
            figures.figure(chart, caption: name.hasPrefix("teacher") ? "Energy distance to the teacher over mean-field time (solid: VarPro, dashed: two-timescale, with markers: stochastic VarPro; grey dashed: the λ → 0 PDE)."
                           : name.hasPrefix("risk") ? "Risk over mean-field time." : name == "pde-distance" ? "Distance of each student to the PDE solution at the same τ (the λ → 0 limit) at the smallest λ."
                           : name == "pde-w2" ? "Geodesic W₂ of each student to the PDE solution at the same τ, at the smallest λ."
                           : "Densities at the end: teacher, PDE, and the VarPro students' feature histograms at the smallest λ.")
        }
        page.add(figures)
        return page
    }
}
