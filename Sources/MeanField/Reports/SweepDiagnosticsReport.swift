import Foundation

/// The limit-diagnostics sections of a sweep report, from diagnostics.json (PAPERS §1.5, §6 E2):
/// failure signatures, distance to the reference against M (log-log, fitted slope and the −1/2
/// reference), against M / log L, over mean-field time, the coordinate check and the fitted slopes.
public enum SweepDiagnosticsReport {
    /// The named failure signatures as a highlighted list (or a short all-clear when the file has none).
    public static func signatures(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "signatures", title: "Failure signatures")
        if diagnostics.signatures.isEmpty {
            section.alerts([("None seen.", "No plateau above zero, no distance growing in time, no divergence (PAPERS §6).")], kind: "ok")
        } else {
            section.alerts(diagnostics.signatures.map { signature in
                var text = signature.run.isEmpty ? "" : "Run \(signature.run): "
                text += signature.message
                if !signature.knob.isEmpty { text += " → Knob: \(signature.knob)" }
                return (signature.name + ".", text)
            })
        }
        return section
    }

    /// Every section that has data, in reading order.
    public static func sections(_ diagnostics: SweepDiagnostics) -> [HTMLPage.Section] {
        [width(diagnostics), widthOverDepth(diagnostics), distanceOverTime(diagnostics), coordinates(diagnostics), fits(diagnostics)]
    }

    /// The fitted slope of `quantity` against `against` recorded in the file, if any.
    static func recordedFit(_ diagnostics: SweepDiagnostics, quantity: String, against: [String]) -> SweepDiagnostics.Fit? {
        diagnostics.fits.first { $0.quantity == quantity && against.contains($0.against) }
    }

    /// Distance to the reference against M, one series per L, with the fitted slope and its CI in the
    /// legend and the −1/2 reference slope (propagation of chaos, PAPERS §1.5 claim C1).
    static func width(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width", title: "Distance to the reference vs width M")
        let reference = diagnostics.reference.map { " The reference run is \($0)." } ?? ""
        let quantities: [(key: String, title: String, value: (SweepDiagnostics.WidthPoint) -> Double, theory: Double?)] = [
            ("function_distance", "function-space distance to the reference", { $0.functionDistance }, -0.5),
            ("risk_gap", "risk gap |R_M − R_ref|", { $0.riskGap }, nil),
            ("particle_sliced_w2", "sliced W2 of the particles (mean over layers)", { ReportSupport.mean($0.particleSlicedW2) }, nil),
        ]
        for quantity in quantities {
            let chart = distanceChart(diagnostics, x: { $0.heads }, xTitle: "heads per layer M", quantity: quantity.key,
                                      against: ["heads", "M"], title: quantity.title.capitalizedFirst + " vs M",
                                      yTitle: quantity.title, value: quantity.value, theory: quantity.theory)
            guard let chart else { continue }
            let theory = quantity.theory.map { " The dashed grey line has the theory's slope \(ReportSupport.signed($0)) (RMS distance ∝ M^−1/2)." } ?? ""
            section.figure(chart.chart, caption: "\(quantity.title.capitalizedFirst) at the end of training for coupled runs of width M (log-log; one colour per depth L, one marker per seed). \(chart.fit)\(theory)\(reference)")
        }
        return section
    }

    /// The same distance against M / log L, the quantity the theory needs to grow (PAPERS §6).
    static func widthOverDepth(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width-depth", title: "Distance vs M / log L")
        let usable = diagnostics.width.filter { $0.layers >= 2 }
        guard Set(usable.map(\.layers)).count >= 2 || Set(usable.map(\.heads)).count >= 2 else { return section }
        var subset = diagnostics
        subset.width = usable
        if let chart = distanceChart(subset, x: { $0.heads / log($0.layers) }, xTitle: "M / log L (heads over log of depth)",
                                     quantity: "function_distance", against: ["M/logL", "M/log L", "heads/log(layers)"],
                                     title: "Function-space distance vs M / log L", yTitle: "function-space distance to the reference",
                                     value: { $0.functionDistance }, theory: nil) {
            section.figure(chart.chart, caption: "The distance of Figure above plotted against M / log L (runs with L ≥ 2). The theory needs M / log L → ∞: if the points of different L fall on one line here, depth costs only a logarithmic factor in width. \(chart.fit)")
        }
        return section
    }

    /// Distance to the reference over mean-field time, one curve per run, coloured by M.
    static func distanceOverTime(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "distance-time", title: "Distance to the reference over mean-field time")
        let curves = diagnostics.width.filter { !$0.curveTime.isEmpty }
        guard !curves.isEmpty else { return section }
        let widths = Array(Set(curves.map(\.heads))).sorted()
        for (key, title, values) in [("function_distance", "function-space distance", \SweepDiagnostics.WidthPoint.curveFunctionDistance),
                                     ("risk_gap", "risk gap |R_M − R_ref|", \SweepDiagnostics.WidthPoint.curveRiskGap)] {
            var listed = Set<String>()
            let series = curves.sorted { ($0.heads, $0.layers, $0.seed) < ($1.heads, $1.layers, $1.seed) }.compactMap { point -> ChartSeries? in
                let y = point[keyPath: values]
                guard !y.isEmpty else { return nil }
                let label = "M = \(MarkupText.number(point.heads))"
                defer { listed.insert(label) }
                return ChartSeries(label, x: point.curveTime, y: y, style: y.count <= 25 ? .lineWithMarkers : .line,
                                   colour: .palette(widths.firstIndex(of: point.heads) ?? 0), inLegend: !listed.contains(label),
                                   lineWidth: 1.6, markerRadius: 2.5)
            }
            guard !series.isEmpty else { continue }
            let scale = ReportSupport.scale(for: series.flatMap(\.y))
            section.figure(Chart(title: title.capitalizedFirst + " over time", x: ChartAxis(RunReport.timeAxis), y: ChartAxis(title, scale: scale), series: series),
                           caption: "\(title.capitalizedFirst) between each run and the reference against mean-field time (\(key)\(ReportSupport.scaleNote(scale))). A distance that keeps growing in time means the width is too small for the depth.")
        }
        return section
    }

    /// Activation and update sizes per layer against M (or against the layer when M is fixed).
    static func coordinates(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "coordinates", title: "Coordinate check")
        let rows = diagnostics.coordinates
        guard !rows.isEmpty else { return section }
        let widthVaries = Set(rows.map(\.heads)).count >= 2
        let depths = Array(Set(rows.map(\.layers))).sorted().prefix(3)
        for depth in depths {
            let atDepth = rows.filter { $0.layers == depth }
            let steps = Array(Set(atDepth.map(\.step))).sorted()
            for (key, title, value) in [("activation_rms", "activation RMS", \SweepDiagnostics.Coordinate.activationRMS),
                                        ("update_rms", "update RMS", \SweepDiagnostics.Coordinate.updateRMS)] {
                var series: [ChartSeries] = []
                if widthVaries {
                    // x = M; one colour per layer, solid at the last step, dashed at the first.
                    let layers = Array(Set(atDepth.map(\.layer))).sorted()
                    let shownLayers = ReportSupport.evenlySpaced(layers.count, count: 6).map { layers[$0] }
                    for (index, layer) in shownLayers.enumerated() {
                        for (stepIndex, step) in [steps.first!, steps.last!].enumerated() where stepIndex == 0 || steps.count > 1 {
                            let points = atDepth.filter { $0.layer == layer && $0.step == step }.sorted { $0.heads < $1.heads }
                            let y = points.map { $0[keyPath: value] }
                            guard y.contains(where: { $0.isFinite && $0 > 0 }) else { continue }
                            series.append(ChartSeries("layer \(MarkupText.number(layer)), step \(MarkupText.number(step))", x: points.map(\.heads), y: y,
                                                      style: .lineWithMarkers, colour: .palette(index), dashed: stepIndex == 0 && steps.count > 1,
                                                      lineWidth: 1.6, markerRadius: 3))
                        }
                    }
                } else {
                    // One width: x = layer; one colour per step.
                    for (index, step) in steps.enumerated() {
                        let points = atDepth.filter { $0.step == step }.sorted { $0.layer < $1.layer }
                        let y = points.map { $0[keyPath: value] }
                        guard y.contains(where: { $0.isFinite }) else { continue }
                        series.append(ChartSeries("step \(MarkupText.number(step))", x: points.map(\.layer), y: y, style: .lineWithMarkers, colour: .palette(index)))
                    }
                }
                guard !series.isEmpty else { continue }
                let yValues = series.flatMap(\.y)
                let yScale: AxisScale = yValues.filter(\.isFinite).allSatisfy { $0 > 0 } ? .log10 : .linear
                let chart = Chart(title: "\(title.capitalizedFirst) per layer, L = \(MarkupText.number(depth))",
                                  x: widthVaries ? ChartAxis("heads per layer M", scale: .log10) : ChartAxis("layer ℓ"),
                                  y: ChartAxis(title + " (per coordinate)", scale: yScale), series: series)
                section.figure(chart, caption: widthVaries
                    ? "\(title.capitalizedFirst) (\(key)) of each layer's output against M at L = \(MarkupText.number(depth)); dashed: step \(MarkupText.number(steps.first!)), solid: step \(MarkupText.number(steps.last!)). Under mean-field scaling the sizes stay flat as M grows; a line that rises or falls with M names a mis-scaled layer."
                    : "\(title.capitalizedFirst) (\(key)) per layer at L = \(MarkupText.number(depth)), one line per step. Sizes that change by orders of magnitude across layers point at the depth scaling 1/L^α.")
            }
        }
        return section
    }

    /// The fitted slopes recorded in the file, with the theory's value and whether the CI covers it.
    static func fits(_ diagnostics: SweepDiagnostics) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "fits", title: "Fitted slopes")
        guard !diagnostics.fits.isEmpty else { return section }
        let rows = diagnostics.fits.map { fit -> [String] in
            let interval = fit.confidence95.count == 2 ? "\(ReportSupport.signed(fit.confidence95[0])) … \(ReportSupport.signed(fit.confidence95[1]))" : "—"
            let covers = fit.theory.map { theory in
                fit.confidence95.count == 2 ? (fit.confidence95[0] <= theory && theory <= fit.confidence95[1] ? "yes" : "no") : "—"
            } ?? "—"
            return [fit.quantity, fit.against, ReportSupport.signed(fit.slope), interval, fit.theory.map(ReportSupport.signed) ?? "—", covers, String(fit.points)]
        }
        section.table(headers: ["quantity", "against", "slope", "95% CI", "theory", "CI covers theory", "points"], rows: rows,
                      caption: "Log-log slopes from diagnostics.json (theory: PAPERS §6 — RMS distance vs M ≈ −1/2, depth error vs L ≈ −1, final Q and R vs λ ≈ 1)",
                      numeric: [2, 4, 6])
        return section
    }

    /// A log-log chart of a width-diagnostic quantity against `x`, one colour per L, with a fitted
    /// slope (the file's own fit when it has one for this quantity, else ``LogLogFit`` over the
    /// points) and an optional dashed theory slope through the data's geometric centre.
    static func distanceChart(_ diagnostics: SweepDiagnostics, x: (SweepDiagnostics.WidthPoint) -> Double, xTitle: String,
                              quantity: String, against: [String], title: String, yTitle: String,
                              value: (SweepDiagnostics.WidthPoint) -> Double, theory: Double?) -> (chart: Chart, fit: String)? {
        let points = diagnostics.width.map { (x: x($0), y: value($0), layers: $0.layers) }
            .filter { $0.x > 0 && $0.x.isFinite && $0.y > 0 && $0.y.isFinite }
        guard !points.isEmpty else { return nil }
        let depths = Array(Set(points.map(\.layers))).sorted()
        var series: [ChartSeries] = depths.enumerated().map { index, depth in
            let members = points.filter { $0.layers == depth }
            return ChartSeries(depth.isFinite ? "L = \(MarkupText.number(depth))" : "runs", x: members.map(\.x), y: members.map(\.y),
                               style: .markers, colour: .palette(index), markerRadius: 4)
        }
        let logX = points.map { log($0.x) }, logY = points.map { log($0.y) }
        let centre = (x: exp(ReportSupport.mean(logX)), y: exp(ReportSupport.mean(logY)))
        let xRange = points.map(\.x).min()!...points.map(\.x).max()!
        var fitText = "Too few points for a fit (need 3 with distinct M)."
        let ownFit = try? LogLogFit.fit(x: points.map(\.x), y: points.map(\.y))
        if let recorded = recordedFit(diagnostics, quantity: quantity, against: against) {
            // The file's slope (fitted across seeds), drawn through the points' geometric centre.
            let label = ReportSupport.slopeLabel("fit: ", slope: recorded.slope, confidence: recorded.confidence95)
            series.append(.fittedPowerLaw(label, slope: recorded.slope, logIntercept: log(centre.y) - recorded.slope * log(centre.x),
                                          xRange: xRange, colour: .palette(depths.count)))
            fitText = "Fitted slope (diagnostics.json, across seeds): \(label.dropFirst(5))."
        } else if let fit = ownFit {
            let label = ReportSupport.slopeLabel("fit: ", slope: fit.slope, confidence: fit.confidence95)
            series.append(.fittedPowerLaw(label, slope: fit.slope, logIntercept: fit.intercept, xRange: xRange, colour: .palette(depths.count)))
            fitText = "Least-squares fit of log distance on log x over \(fit.points) runs: \(label.dropFirst(5))."
        }
        if let theory, xRange.lowerBound < xRange.upperBound {
            let name = theory == -0.5 ? "−1/2 reference" : "slope \(ReportSupport.signed(theory)) reference"
            series.append(.referenceSlope(name, slope: theory, through: centre, xRange: xRange))
        }
        return (Chart(title: title, x: ChartAxis(xTitle, scale: .log10), y: ChartAxis(yTitle, scale: .log10), series: series), fitText)
    }
}
