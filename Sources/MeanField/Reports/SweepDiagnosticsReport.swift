import Foundation

/// The limit-diagnostics sections of a sweep report, from diagnostics.json (theory §1.5, §6 E2):
/// failure signatures, distance to the reference against M (log-log, fitted slopes and the −1/2
/// reference), against M / log L, over mean-field time, depth error against L, the coordinate
/// check and the table of fitted slopes.
public enum SweepDiagnosticsReport {
    /// The named failure signatures as a highlighted list (or a short all-clear when the file has none).
    public static func signatures(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "signatures", title: "Failure signatures")
        if diagnostics.signatures.isEmpty {
            section.alerts([("None seen.", "No plateau above zero, no distance growing in time, no divergence (theory §6).")], kind: "ok")
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
    public static func sections(_ diagnostics: DiagnosticsReport) -> [HTMLPage.Section] {
        [width(diagnostics), widthOverDepth(diagnostics), distanceOverTime(diagnostics), depth(diagnostics),
         distanceTable(diagnostics), linearization(diagnostics), coordinates(diagnostics), fits(diagnostics)]
    }

    /// One coloured group of points on a log-log distance chart, and how to find its recorded fit.
    struct PointGroup {
        var label: String
        /// The family setting that identifies this group's fit in diagnostics.json ("layers", 8).
        var family: (flag: String, value: Double)?
        var x: [Double]
        var y: [Double]
    }

    /// RMS function-space distance to the reference, risk gap and particle distances against M,
    /// one colour per L, each with its fitted slope and 95% CI in the legend, and the −1/2
    /// reference slope (propagation of chaos, theory §1.5 claim C1).
    static func width(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width", title: "Distance to the reference vs width M")
        let reference = diagnostics.reference.map { " The reference run is \($0)." } ?? ""
        let quantities: [(key: String, title: String, value: (DiagnosticsReport.WidthEntry) -> Double, theory: Double?)] = [
            ("rms_function_distance", "RMS function-space distance to the reference", { $0.functionDistance.squareRoot() }, -0.5),
            ("risk_gap", "risk gap |R_M − R_ref|", { $0.riskGap }, nil),
            ("particle_sliced_w2", "sliced W2 of the head particles (mean over layers)", { ReportSupport.mean($0.particleSlicedW2) }, -0.5),
            ("particle_sinkhorn", "Sinkhorn divergence of the head particles (mean over layers)", { ReportSupport.mean($0.particleSinkhorn) }, nil),
        ]
        let depths = Array(Set(diagnostics.width.map(\.layers))).sorted()
        for quantity in quantities {
            let groups = depths.map { depth in
                let members = diagnostics.width.filter { $0.layers == depth }
                return PointGroup(label: depth >= 0 ? "L = \(depth)" : "runs", family: ("layers", Double(depth)),
                                  x: members.map { Double($0.heads) }, y: members.map(quantity.value))
            }
            let recorded = diagnostics.fits.filter { $0.quantity == quantity.key && $0.against == "heads" }
            guard let chart = logLogChart(groups, recorded: recorded, theory: quantity.theory, title: quantity.title.capitalizedFirst + " vs M",
                                          xTitle: "heads per layer M", yTitle: quantity.title) else { continue }
            let theory = quantity.theory.map { " Dashed grey: the theory's slope \(ReportSupport.signed($0)) (RMS distance ∝ M^−1/2)." } ?? ""
            section.figure(chart.chart, caption: "\(quantity.title.capitalizedFirst) at the end of training for coupled runs of width M (log-log; one colour per depth L, one marker per seed). \(chart.fits)\(theory)\(reference)")
        }
        if !diagnostics.skipped.isEmpty {
            section.collapsed("Runs the diagnostics skipped (\(diagnostics.skipped.count))") { inner in
                inner.table(headers: ["reason"], rows: diagnostics.skipped.map { [$0] })
            }
        }
        return section
    }

    /// The same distance against M / log L, the quantity the theory needs to grow (theory §6).
    static func widthOverDepth(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width-depth", title: "Distance vs M / log L")
        let usable = diagnostics.width.filter { $0.layers >= 2 }
        guard Set(usable.map(\.layers)).count >= 2 else { return section }
        let groups = Array(Set(usable.map(\.layers))).sorted().map { depth in
            let members = usable.filter { $0.layers == depth }
            return PointGroup(label: "L = \(depth)", family: nil,
                              x: members.map { Double($0.heads) / log(Double($0.layers)) }, y: members.map { $0.functionDistance.squareRoot() })
        }
        // One fit over all depths: if depth costs only log L in width, the points fall on one line.
        let all = PointGroup(label: "all L", family: nil, x: groups.flatMap(\.x), y: groups.flatMap(\.y))
        if let chart = logLogChart(groups, recorded: [], theory: nil, title: "RMS function-space distance vs M / log L",
                                   xTitle: "M / log L (heads over natural log of depth)", yTitle: "RMS function-space distance",
                                   pooledFit: all) {
            section.figure(chart.chart, caption: "The RMS distance of the width study against M / log L (runs with L ≥ 2). The theory needs M / log L → ∞: if the points of different L fall on one line, depth costs only a logarithmic factor in width. \(chart.fits)")
        }
        return section
    }

    /// Distance to the reference over mean-field time, one curve per run, coloured by M.
    static func distanceOverTime(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "distance-time", title: "Distance to the reference over mean-field time")
        let curves = diagnostics.width.filter { !$0.curve.t.isEmpty || !$0.curve.riskGapT.isEmpty }
        guard !curves.isEmpty else { return section }
        let widths = Array(Set(curves.map(\.heads))).sorted()
        let quantities: [(String, String, (DiagnosticsReport.WidthEntry) -> (x: [Double], y: [Double]))] = [
            ("function_distance", "RMS function-space distance", { ($0.curve.t, $0.curve.functionDistance.map { $0.squareRoot() }) }),
            ("risk_gap", "risk gap |R_M − R_ref|", { ($0.curve.riskGapT, $0.curve.riskGap) }),
        ]
        for (key, title, values) in quantities {
            var listed = Set<String>()
            let series = curves.sorted { ($0.heads, $0.layers, $0.seed) < ($1.heads, $1.layers, $1.seed) }.compactMap { point -> ChartSeries? in
                let curve = values(point)
                guard !curve.y.isEmpty else { return nil }
                let label = "M = \(point.heads)"
                defer { listed.insert(label) }
                return ChartSeries(label, x: curve.x, y: curve.y, style: curve.y.count <= 25 ? .lineWithMarkers : .line,
                                   colour: .palette(widths.firstIndex(of: point.heads) ?? 0), inLegend: !listed.contains(label),
                                   lineWidth: 1.6, markerRadius: 2.5)
            }
            guard !series.isEmpty else { continue }
            let scale = ReportSupport.scale(for: series.flatMap(\.y))
            section.figure(Chart(title: title.capitalizedFirst + " over time", x: ChartAxis(RunReport.timeAxis), y: ChartAxis(title, scale: scale), series: series),
                           caption: "\(title.capitalizedFirst) between each run and its coupled reference against mean-field time (\(key)\(ReportSupport.scaleNote(scale)); one line per run, coloured by M). A distance that keeps growing in time means the width is too small for the depth.")
        }
        return section
    }

    /// RMS depth error against L (theory slope −1, theory §6), one colour per M.
    static func depth(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "depth", title: "Depth error vs L")
        guard !diagnostics.depth.isEmpty else { return section }
        let widths = Array(Set(diagnostics.depth.map(\.heads))).sorted()
        for (key, title, value) in [("rms_depth_error", "RMS distance to the deepest run, end of training", { (point: DiagnosticsReport.DepthEntry) in point.functionDistance.squareRoot() }),
                                    ("rms_depth_error_init", "RMS distance to the deepest run, at initialization", { (point: DiagnosticsReport.DepthEntry) in point.initialFunctionDistance.squareRoot() })] {
            let groups = widths.map { width in
                let members = diagnostics.depth.filter { $0.heads == width }
                return PointGroup(label: "M = \(width)", family: ("heads", Double(width)), x: members.map { Double($0.layers) }, y: members.map(value))
            }
            let recorded = diagnostics.fits.filter { $0.quantity == key && $0.against == "layers" }
            guard let chart = logLogChart(groups, recorded: recorded, theory: -1, title: title.capitalizedFirst,
                                          xTitle: "layers L", yTitle: "RMS function-space distance") else { continue }
            section.figure(chart.chart, caption: "\(title.capitalizedFirst) against depth L (log-log; one colour per M, one marker per seed). The theory expects the depth discretisation error to fall as 1/L (slope −1, dashed grey when L varies). \(chart.fits)")
        }
        return section
    }

    /// Activation and update sizes per layer against M (or against the layer when M is fixed).
    static func coordinates(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "coordinates", title: "Coordinate check")
        let rows = diagnostics.coordinates
        guard !rows.isEmpty else { return section }
        let widthVaries = Set(rows.map(\.heads)).count >= 2
        let depths = Array(Set(rows.map(\.layers))).sorted().prefix(3)
        for depth in depths {
            let atDepth = rows.filter { $0.layers == depth }
            let steps = Array(Set(atDepth.map(\.step))).sorted()
            for (key, title, value) in [("activation_rms", "activation RMS", \DiagnosticsReport.Coordinate.activationRMS),
                                        ("update_rms", "update RMS", \DiagnosticsReport.Coordinate.updateRMS)] {
                var series: [ChartSeries] = []
                if widthVaries {
                    // x = M; one colour per layer, solid at the last step, dashed at the first.
                    let layers = Array(Set(atDepth.map(\.layer))).sorted()
                    let shownLayers = ReportSupport.evenlySpaced(layers.count, count: 6).map { layers[$0] }
                    for (index, layer) in shownLayers.enumerated() {
                        for (stepIndex, step) in [steps.first!, steps.last!].enumerated() where stepIndex == 0 || steps.count > 1 {
                            // Seeds of the same M are averaged.
                            let points = atDepth.filter { $0.layer == layer && $0.step == step }
                            let widths = Array(Set(points.map(\.heads))).sorted()
                            let y = widths.map { width in ReportSupport.mean(points.filter { $0.heads == width }.map { $0[keyPath: value] }) }
                            guard y.contains(where: { $0.isFinite && $0 > 0 }) else { continue }
                            series.append(ChartSeries("layer \(layer), step \(step)", x: widths.map(Double.init), y: y,
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
                        series.append(ChartSeries("step \(step)", x: points.map { Double($0.layer) }, y: y, style: .lineWithMarkers, colour: .palette(index)))
                    }
                }
                guard !series.isEmpty else { continue }
                let yValues = series.flatMap(\.y)
                let yScale: AxisScale = yValues.filter(\.isFinite).allSatisfy { $0 > 0 } ? .log10 : .linear
                let chart = Chart(title: "\(title.capitalizedFirst) per layer, L = \(depth)",
                                  x: widthVaries ? ChartAxis("heads per layer M", scale: .log10) : ChartAxis("layer ℓ"),
                                  y: ChartAxis(title + " (per coordinate)", scale: yScale), series: series)
                section.figure(chart, caption: widthVaries
                    ? "\(title.capitalizedFirst) (\(key)) of each layer's output against M at L = \(depth) (mean over seeds); dashed: step \(steps.first!), solid: step \(steps.last!). Under mean-field scaling the sizes stay flat as M grows; a line that rises or falls with M names a mis-scaled layer."
                    : "\(title.capitalizedFirst) (\(key)) per layer at L = \(depth), one line per step. Sizes that change by orders of magnitude across layers point at the depth scaling 1/L^α.")
            }
        }
        return section
    }

    /// The fitted slopes recorded in the file, with the theory's value and whether the CI covers it.
    static func fits(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "fits", title: "Fitted slopes")
        guard !diagnostics.fits.isEmpty else { return section }
        let rows = diagnostics.fits.map { fit -> [String] in
            let theory: Double? = fit.theory.isFinite ? fit.theory : nil
            let interval = fit.confidence95.count == 2 ? "\(ReportSupport.signed(fit.confidence95[0])) … \(ReportSupport.signed(fit.confidence95[1]))" : "—"
            let covers = theory.map { theory in
                fit.confidence95.count == 2 ? (fit.confidence95[0] <= theory && theory <= fit.confidence95[1] ? "yes" : "no") : "—"
            } ?? "—"
            return [fit.quantity, fit.against, fit.family, ReportSupport.signed(fit.slope), interval, theory.map(ReportSupport.signed) ?? "—",
                    covers, String(fit.points), fit.seeds > 0 ? String(fit.seeds) : "—"]
        }
        section.table(headers: ["quantity", "against", "family (held fixed)", "slope", "95% CI", "theory", "CI covers theory", "points", "seeds"], rows: rows,
                      caption: "Log-log slopes from diagnostics.json (theory, theory §6: RMS distance vs M ≈ −1/2, depth error vs L ≈ −1, final Q and R vs λ ≈ 1)",
                      numeric: [3, 5, 7, 8])
        return section
    }

    /// A log-log chart of groups of positive points, one colour per group, each with a fitted power
    /// law named in the legend: the file's fit for that group when `recorded` has one (matched by
    /// the group's family setting; drawn through the group's geometric centre), else ``LogLogFit``
    /// over the group. `pooledFit` adds one fit over all groups instead. An optional dashed theory
    /// slope goes through the geometric centre of all points.
    static func logLogChart(_ groups: [PointGroup], recorded: [DiagnosticsReport.Fit], theory: Double?, title: String,
                            xTitle: String, yTitle: String, pooledFit: PointGroup? = nil) -> (chart: Chart, fits: String)? {
        func positive(_ group: PointGroup) -> (x: [Double], y: [Double]) {
            let kept = group.x.indices.filter { group.x[$0] > 0 && group.x[$0].isFinite && group.y[$0] > 0 && group.y[$0].isFinite }
            return (kept.map { group.x[$0] }, kept.map { group.y[$0] })
        }
        func centre(_ points: (x: [Double], y: [Double])) -> (x: Double, y: Double) {
            (exp(ReportSupport.mean(points.x.map(log))), exp(ReportSupport.mean(points.y.map(log))))
        }
        let allPoints = groups.map(positive).reduce(into: (x: [Double](), y: [Double]())) { $0.x += $1.x; $0.y += $1.y }
        guard !allPoints.x.isEmpty else { return nil }
        var series: [ChartSeries] = []
        var fitTexts: [String] = []
        for (index, group) in groups.enumerated() {
            let points = positive(group)
            guard !points.x.isEmpty, let low = points.x.min(), let high = points.x.max() else { continue }
            var name = group.label
            var line: ChartSeries?
            if pooledFit == nil {
                let matching = recorded.first { fit in group.family.map { fit.holds($0.flag, $0.value) } ?? false }
                    ?? (recorded.count == 1 && groups.count == 1 ? recorded[0] : nil)
                if let fit = matching, low < high {
                    let middle = centre(points)
                    name = ReportSupport.slopeLabel("\(group.label): ", slope: fit.slope, confidence: fit.confidence95)
                    line = .fittedPowerLaw("", slope: fit.slope, logIntercept: log(middle.y) - fit.slope * log(middle.x), xRange: low...high, colour: .palette(index))
                    fitTexts.append("\(name) (diagnostics.json, \(fit.seeds > 1 ? "across \(fit.seeds) seeds" : "\(fit.points) points"))")
                } else if let fit = try? LogLogFit.fit(x: points.x, y: points.y) {
                    name = ReportSupport.slopeLabel("\(group.label): ", slope: fit.slope, confidence: fit.confidence95)
                    line = .fittedPowerLaw("", slope: fit.slope, logIntercept: fit.intercept, xRange: low...high, colour: .palette(index))
                    fitTexts.append("\(name) (least squares over \(fit.points) runs)")
                }
            }
            series.append(ChartSeries(name, x: points.x, y: points.y, style: .markers, colour: .palette(index), markerRadius: 4))
            if var line {
                line.inLegend = false
                series.append(line)
            }
        }
        if let pooledFit {
            let points = positive(pooledFit)
            if let fit = try? LogLogFit.fit(x: points.x, y: points.y), let low = points.x.min(), let high = points.x.max() {
                let name = ReportSupport.slopeLabel("\(pooledFit.label) fit: ", slope: fit.slope, confidence: fit.confidence95)
                series.append(.fittedPowerLaw(name, slope: fit.slope, logIntercept: fit.intercept, xRange: low...high, colour: .palette(groups.count)))
                fitTexts.append("\(name) (least squares over \(fit.points) runs)")
            }
        }
        if let theory, let low = allPoints.x.min(), let high = allPoints.x.max(), low < high {
            let name = theory == -0.5 ? "−1/2 reference" : "slope \(ReportSupport.signed(theory)) reference"
            series.append(.referenceSlope(name, slope: theory, through: centre(allPoints), xRange: low...high))
        }
        let fitText = fitTexts.isEmpty ? "Too few points for a fit (3 with distinct x per group)." : "Fitted slopes: " + fitTexts.joined(separator: "; ") + "."
        return (Chart(title: title, x: ChartAxis(xTitle, scale: .log10), y: ChartAxis(yTitle, scale: .log10), series: series), fitText)
    }
}

extension DiagnosticsReport.Fit {
    /// Whether the family holds `flag` at `value` ("layers=2" in "layers=2 lr=0.02").
    func holds(_ flag: String, _ value: Double) -> Bool {
        family.split(separator: " ").contains { token in
            let parts = token.split(separator: "=", maxSplits: 1)
            return parts.count == 2 && parts[0] == flag && Double(parts[1]) == value
        }
    }
}
