import Foundation

/// The distance tables of a diagnostics report, from diagnostics.json: every width and depth
/// distance with its standard error and sample size, the test-accuracy gap of image runs, and each
/// run's distance from its linearized model (theory §1.6) over mean-field time.
extension SweepDiagnosticsReport {
    /// Distances to the references, with standard errors (all models and tasks).
    static func distanceTable(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "distances", title: "Distances on the evaluation set, with standard errors")
        guard !diagnostics.width.isEmpty || !diagnostics.depth.isEmpty else { return section }
        let sample = diagnostics.evalSize.map { " Samples: the runs' own evaluation sets (meanfield diagnose --eval-size \($0))." } ?? ""
        if !diagnostics.width.isEmpty {
            let rows = diagnostics.width.map { entry -> [String] in
                let rms = entry.functionDistance.squareRoot()
                let relative = entry.referenceMeanSquare > 0 ? rms / entry.referenceMeanSquare.squareRoot() : .nan
                return [entry.run, entry.reference, entry.task.isEmpty ? "—" : entry.task,
                        "\(entry.widthKey == "units" ? "units" : "M") = \(entry.heads) / \(entry.referenceHeads)", String(entry.layers), String(entry.seed),
                        entry.evalSamples > 0 ? String(entry.evalSamples) : "—",
                        withError(rms, rmsStandardError(entry.functionDistance, entry.functionDistanceSE)), number(relative), number(entry.riskGap),
                        entry.accuracyGap.isNaN ? "—" : withError(entry.accuracyGap, entry.accuracyGapSE)]
            }
            section.table(headers: ["run", "reference", "task", "width / reference", "L", "seed", "samples n", "RMS distance ± SE",
                                    "÷ reference RMS", "risk gap", "accuracy gap ± SE"],
                          rows: rows,
                          caption: "Width study at the last common checkpoint: RMS distance √E_x|F_M(x) − F_ref(x)|² (|·| over the logits of an image run) on the runs' own evaluation set, ± its standard error over the n samples (delta method from the SE of the mean square); the test-accuracy gap (run − reference, same images) ± its paired SE.\(sample)",
                          numeric: [4, 5, 6, 7, 8, 9, 10])
        }
        if !diagnostics.depth.isEmpty {
            let rows = diagnostics.depth.map { entry -> [String] in
                [entry.run, entry.reference, "\(entry.layers) / \(entry.referenceLayers)", String(entry.heads), String(entry.seed),
                 entry.evalSamples > 0 ? String(entry.evalSamples) : "—",
                 withError(entry.initialFunctionDistance.squareRoot(), rmsStandardError(entry.initialFunctionDistance, entry.initialFunctionDistanceSE)),
                 withError(entry.functionDistance.squareRoot(), rmsStandardError(entry.functionDistance, entry.functionDistanceSE)),
                 number(entry.riskGap)]
            }
            section.table(headers: ["run", "reference", "L / reference", "width", "seed", "samples n", "RMS distance at t = 0 ± SE",
                                    "RMS distance at the end ± SE", "risk gap"],
                          rows: rows, caption: "Depth study: RMS distance to the deepest run of the family on the runs' own evaluation set, ± its standard error.\(sample)",
                          numeric: [3, 4, 5, 6, 7, 8])
        }
        return section
    }

    /// ρ_lin = ‖f − f_lin‖/‖f − f₀‖ of every run: a table at the last checkpoint and a chart over time.
    static func linearization(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "linearization", title: "Distance from the linearized model")
        let entries = diagnostics.linearization
        guard !entries.isEmpty else { return section }
        let rows = entries.map { entry -> [String] in
            [entry.run, entry.task, "\(entry.widthKey == "units" ? "units" : "M") = \(entry.width)", String(entry.layers), String(entry.seed),
             number(entry.lr), entry.gamma0.isNaN ? "—" : number(entry.gamma0), number(entry.t), String(entry.evalSamples),
             withError(entry.relativeDistance, entry.relativeDistanceSE), number(entry.functionChange), number(entry.linearChange)]
        }
        section.table(headers: ["run", "task", "width", "L", "seed", "η", "γ₀", "t", "samples n", "ρ_lin ± SE", "‖f − f₀‖", "‖f_lin − f₀‖"],
                      rows: rows,
                      caption: "ρ_lin = ‖f_θ − f_lin‖ / ‖f_θ − f_θ₀‖ at each run's last checkpoint, f_lin(x) = f_θ₀(x) + ∂_θf_θ₀(x)·(θ − θ₀) the model linearized at initialization (theory §1.6), norms RMS over the evaluation set. ρ_lin ≈ 0: lazy training, the features did not move; ρ_lin of order one: feature learning. γ₀ — : the plain output.",
                      numeric: [3, 4, 5, 6, 7, 8, 9, 10, 11])
        let widths = Array(Set(entries.map(\.width))).sorted()
        var listed = Set<String>()
        let series = entries.sorted { ($0.width, $0.layers, $0.seed) < ($1.width, $1.layers, $1.seed) }.compactMap { entry -> ChartSeries? in
            guard !entry.curveT.isEmpty else { return nil }
            let label = "\(entry.widthKey == "units" ? "units" : "M") = \(entry.width)" + (entry.gamma0.isNaN ? "" : ", γ₀ = \(number(entry.gamma0))")
            defer { listed.insert(label) }
            return ChartSeries(label, x: entry.curveT, y: entry.curveRelativeDistance, style: .lineWithMarkers,
                               colour: .palette(widths.firstIndex(of: entry.width) ?? 0), inLegend: !listed.contains(label),
                               lineWidth: 1.6, markerRadius: 2.5)
        }
        if !series.isEmpty {
            let scale = ReportSupport.scale(for: series.flatMap(\.y))
            section.figure(Chart(title: "Distance from the linearized model over time", x: ChartAxis(RunReport.timeAxis),
                                 y: ChartAxis("ρ_lin = ‖f − f_lin‖ / ‖f − f₀‖", scale: scale), series: series),
                           caption: "ρ_lin against mean-field time at up to \(Linearization.curvePoints) checkpoints per run\(ReportSupport.scaleNote(scale)), coloured by width. A curve that stays near 0 is lazy (kernel) training; one that rises to order one has learned features.")
        }
        return section
    }

    /// SE of √d² from the SE of d² (delta method).
    static func rmsStandardError(_ squared: Double, _ squaredSE: Double) -> Double {
        squared > 0 ? squaredSE / (2 * squared.squareRoot()) : .nan
    }

    static func number(_ value: Double) -> String {
        value.isNaN ? "—" : MarkupText.number(value, significantDigits: 3)
    }

    static func withError(_ value: Double, _ error: Double) -> String {
        value.isNaN ? "—" : error.isNaN ? number(value) : "\(number(value)) ± \(MarkupText.number(error, significantDigits: 2))"
    }
}
