import Foundation

/// The report of a sweep directory: the grid and its runs, loss curves per width M on one
/// mean-field-time axis, final R and Q against weight decay λ with fitted slopes, final loss against
/// learning rate per M and per L (hyperparameter transfer), and the limit diagnostics when
/// diagnostics.json is present (``SweepDiagnosticsReport``).
public enum SweepReport {
    /// Grid flags that are replicates, not settings: pooled into error bars rather than split into series.
    static let replicateFlags: Set<String> = ["seed"]
    /// At most this many loss-curve charts (one per combination of the other grid flags).
    static let maximumCurveCharts = 8

    /// The page for `sweep`.
    public static func page(_ sweep: SweepRecords) -> HTMLPage {
        let name = URL(fileURLWithPath: sweep.path).lastPathComponent
        var page = HTMLPage(title: "Sweep report: \(name)",
                            subtitle: "\(sweep.runs.count) runs over \(sweep.grid.map { "\(ReportSupport.symbol($0.flag)) ∈ {\($0.values.joined(separator: ", "))}" }.joined(separator: " × ")) · \(sweep.path)")
        if let diagnostics = sweep.diagnostics { page.add(SweepDiagnosticsReport.signatures(diagnostics)) }
        page.add(overview(sweep))
        page.add(lossCurves(sweep))
        page.add(weightDecay(sweep))
        page.add(transfer(sweep))
        if let diagnostics = sweep.diagnostics {
            for section in SweepDiagnosticsReport.sections(diagnostics) { page.add(section) }
        }
        page.add(runTable(sweep))
        return page
    }

    /// The quantity a run's loss is measured by: R for regression, the training loss for images.
    static func lossKey(_ sweep: SweepRecords) -> (key: String, final: String, title: String) {
        sweep.runs.contains { $0.records?.isImageRun ?? false }
            ? ("train_loss", "Q", "training loss (cross-entropy)")
            : ("R", "R", "training risk R")
    }

    /// Grid, provenance (from the first run's manifest) and problems.
    static func overview(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "overview", title: "Sweep")
        section.table(headers: ["flag", "values", "count"], rows: sweep.grid.map { [$0.flag, $0.values.joined(separator: ", "), String($0.values.count)] },
                      caption: "Grid (sweep.json): \(sweep.runs.count) runs", numeric: [2])
        var statuses: [String: Int] = [:]
        for run in sweep.runs {
            let status = run.summaryRow["status"].flatMap { $0.isEmpty ? nil : $0 }
                ?? run.records?.status ?? (run.records == nil ? "missing" : "in progress")
            statuses[status, default: 0] += 1
        }
        var pairs = statuses.keys.sorted().map { ("runs \($0)", String(statuses[$0]!)) }
        if let manifest = sweep.runs.lazy.compactMap({ $0.records?.manifest }).first {
            let shown: Set<String> = ["git commit", "meanfield version", "Swift", "CPU", "OS"]
            pairs += manifest.provenance.filter { shown.contains($0.label) }.map { ($0.label + " (first run)", $0.text) }
        }
        if !sweep.fixed.isEmpty {
            pairs += sweep.fixed.map { ($0.flag + " (fixed)", $0.value) }
        } else if let config = sweep.runs.lazy.compactMap({ $0.records?.configValues }).first(where: { !$0.isEmpty }) {
            let fixed = ["task", "heads", "ffn-units", "layers", "optimizer", "lr", "weight-decay", "steps", "epochs"]
                .filter { flag in !sweep.grid.contains { $0.flag == flag } }
            for key in fixed { if let value = config[RunFormat.snakeCase(key)] { pairs.append((key + " (fixed)", value.displayText)) } }
        }
        section.keyValues(pairs, caption: "Status and provenance")
        if !sweep.problems.isEmpty {
            section.alerts(sweep.problems.map { ("skipped", $0) })
        }
        return section
    }

    /// summary.csv as a table.
    static func runTable(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "runs", title: "Runs")
        if let summary = sweep.summary, !summary.rows.isEmpty {
            let numeric = Set(summary.header.indices.filter { column in
                summary.rows.allSatisfy { $0[column].isEmpty || Double($0[column]) != nil }
            })
            let rows = summary.rows.map { row in
                row.enumerated().map { column, text in numeric.contains(column) ? Double(text).map { MarkupText.number($0) } ?? text : text }
            }
            section.table(headers: summary.header, rows: rows, caption: "Final metrics per run (summary.csv)", numeric: numeric)
        } else if !sweep.runs.isEmpty {
            let flags = sweep.grid.map(\.flag)
            let key = lossKey(sweep)
            section.table(headers: ["name"] + flags + ["t", key.final],
                          rows: sweep.runs.map { run in
                              [run.name] + flags.map { run.flags[$0] ?? "" }
                                  + [run.final("t"), run.final(key.final)].map { $0.map { MarkupText.number($0) } ?? "" }
                          },
                          caption: "Final metrics per run (from the runs' metrics; no summary.csv)", numeric: Set((flags.count + 1)...(flags.count + 2)))
        }
        return section
    }

    /// Loss curves against mean-field time, coloured by width M: one chart per combination of the
    /// other (non-replicate) grid flags.
    static func lossCurves(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "loss-curves", title: "Loss curves on one mean-field time axis")
        let withMetrics = sweep.runs.filter { !($0.records?.metrics.isEmpty ?? true) }
        guard !withMetrics.isEmpty else { return section }
        let key = lossKey(sweep)
        let varying = sweep.grid.map(\.flag).filter { sweep.varies($0) && !replicateFlags.contains($0) }
        // Colour by width, else by depth (a depth study: one chart per model and α), else the first axis.
        let colourFlag = ["heads", "units", "layers"].first(where: varying.contains) ?? varying.first
        let groupFlags = varying.filter { $0 != colourFlag }
        let colourValues = colourFlag.map { ReportSupport.sortedValues(sweep.values(of: $0)) } ?? []
        let groups = Dictionary(grouping: withMetrics) { run in groupFlags.map { run.flags[$0] ?? "" } }
        let orderedGroups = groups.keys.sorted { lhs, rhs in
            for (a, b) in zip(lhs, rhs) where a != b { return (Double(a) ?? .infinity, a) < (Double(b) ?? .infinity, b) }
            return false
        }
        for (chartIndex, groupKey) in orderedGroups.enumerated() {
            if chartIndex == maximumCurveCharts {
                section.paragraph("\(orderedGroups.count - maximumCurveCharts) more combinations of \(groupFlags.joined(separator: ", ")) are not drawn; see the table of runs.")
                break
            }
            var series: [ChartSeries] = []
            var listed = Set<String>()
            let runs = groups[groupKey]!.sorted { ($0.flag(colourFlag ?? "") ?? 0, $0.name) < ($1.flag(colourFlag ?? "") ?? 0, $1.name) }
            for run in runs {
                let curve = run.records!.series(key.key)
                let value = colourFlag.flatMap { run.flags[$0] } ?? run.name
                let colour = colourValues.firstIndex(of: value) ?? series.count
                let label = colourFlag.map { "\(ReportSupport.symbol($0)) = \(value)" } ?? run.name
                series.append(ChartSeries(label, x: curve.x, y: curve.y, style: curve.x.count <= 25 ? .lineWithMarkers : .line,
                                          colour: .palette(colour), inLegend: !listed.contains(label), lineWidth: 1.8, markerRadius: 2.5))
                listed.insert(label)
            }
            let scale = ReportSupport.scale(for: series.flatMap(\.y))
            let fixed = zip(groupFlags, groupKey).map { "\(ReportSupport.symbol($0)) = \($1)" }.joined(separator: ", ")
            let seeds = runs.count > listed.count ? " Runs with the same colour are seeds." : ""
            section.figure(Chart(title: fixed.isEmpty ? "\(key.title.capitalizedFirst) vs mean-field time" : "Loss curves at \(fixed)",
                                 x: ChartAxis(RunReport.timeAxis), y: ChartAxis(key.title, scale: scale), series: series),
                           caption: "\(key.title.capitalizedFirst) against mean-field time t = Σ η for each \(colourFlag.map(ReportSupport.symbol) ?? "run")\(fixed.isEmpty ? "" : " at \(fixed)")\(ReportSupport.scaleNote(scale)). \(colourFlag == "layers" ? "With residual steps 1/L the curves of growing L approach the depth-ODE limit; with 1/√L (α = ½) depth adds capacity." : "In the mean-field limit the curves of growing M converge to one curve.")\(seeds)")
        }
        return section
    }

    /// Final R and Q against weight decay λ on log-log axes, one series per M with its fitted slope
    /// (theory ≈ 1, theory §6 E3); other varied settings are held at their first grid value.
    static func weightDecay(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "weight-decay", title: "Final risk and objective vs weight decay λ")
        let flag = "weight-decay"
        guard sweep.varies(flag) else { return section }
        let varying = sweep.grid.map(\.flag).filter { $0 != flag && sweep.varies($0) && !replicateFlags.contains($0) }
        let seriesFlag = varying.contains("heads") ? "heads" : varying.first
        let held = heldRuns(sweep, holding: varying.filter { $0 != seriesFlag })
        for (quantity, title) in [("Q", "final objective Q"), ("R", "final training risk R")] {
            let chart = groupedLogLogChart(held.runs, xFlag: flag, quantity: quantity, seriesFlag: seriesFlag,
                                           title: "\(title.capitalizedFirst) vs λ", xTitle: "weight decay λ", yTitle: title)
            guard let chart else { continue }
            section.figure(chart.chart, caption: "\(title.capitalizedFirst) at the end of each run against λ (log-log; markers: mean over seeds, bars: min–max).\(held.note) Lines: least-squares fits of log \(quantity) on log λ over every run; the theory expects slope ≈ 1 when λ sets the final risk (theory §6, E3). \(chart.fits)")
        }
        return section
    }

    /// The runs whose `flags` are at their first grid value, and a caption note saying so.
    static func heldRuns(_ sweep: SweepRecords, holding flags: [String]) -> (runs: [SweepRecords.Run], note: String) {
        let values = Dictionary(uniqueKeysWithValues: flags.map { ($0, sweep.values(of: $0)[0]) })
        let runs = sweep.runs.filter { run in flags.allSatisfy { run.flags[$0] == values[$0] } }
        let note = flags.isEmpty ? "" : " Held at \(flags.map { "\(ReportSupport.symbol($0)) = \(values[$0]!)" }.joined(separator: ", "))."
        return (runs, note)
    }

    /// Final loss against learning rate, one series per M and one per L (hyperparameter transfer:
    /// in mean-field time the best rate should not move with width or depth).
    static func transfer(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "transfer", title: "Hyperparameter transfer: final loss vs learning rate")
        guard sweep.varies("lr") else { return section }
        let key = lossKey(sweep)
        for seriesFlag in ["heads", "layers"] where sweep.varies(seriesFlag) || (seriesFlag == "heads" && !sweep.varies("layers")) {
            // The other settings are held at their first grid value.
            let held = heldRuns(sweep, holding: sweep.grid.map(\.flag).filter { $0 != "lr" && $0 != seriesFlag && sweep.varies($0) && !replicateFlags.contains($0) })
            let runs = held.runs
            let seriesValues = sweep.varies(seriesFlag) ? ReportSupport.sortedValues(runs.compactMap { $0.flags[seriesFlag] }) : [""]
            var series: [ChartSeries] = []
            var best: [String] = []
            for (index, value) in seriesValues.enumerated() {
                let members = runs.filter { value.isEmpty || $0.flags[seriesFlag] == value }
                let points = meanByX(members, xFlag: "lr", quantity: key.final)
                guard !points.x.isEmpty else { continue }
                let label = value.isEmpty ? "final \(key.final)" : "\(ReportSupport.symbol(seriesFlag)) = \(value)"
                series.append(ChartSeries(label, x: points.x, y: points.mean, style: .lineWithMarkers, colour: .palette(index),
                                          errorLow: points.low, errorHigh: points.high))
                if let bestIndex = points.mean.indices.filter({ points.mean[$0].isFinite }).min(by: { points.mean[$0] < points.mean[$1] }) {
                    best.append("\(label): η = \(MarkupText.number(points.x[bestIndex]))")
                }
            }
            guard !series.isEmpty else { continue }
            let allY = series.flatMap(\.y)
            let heldText = held.note
            let chart = Chart(title: "Final \(key.final) vs learning rate" + (sweep.varies(seriesFlag) ? ", per \(ReportSupport.symbol(seriesFlag))" : ""),
                              x: ChartAxis("learning rate η (mean-field time per step)", scale: .log10),
                              y: ChartAxis("final \(key.title)", scale: ReportSupport.scale(for: allY) == .log10 || allY.allSatisfy { $0 > 0 } ? .log10 : .linear),
                              series: series)
            section.figure(chart, caption: "Final \(key.title) against the learning rate η\(sweep.varies(seriesFlag) ? " for each \(ReportSupport.symbol(seriesFlag))" : "") (markers: mean over seeds, bars: min–max).\(heldText) With mean-field scaling the best η should not move with width or depth. Best η: \(best.joined(separator: "; ")).")
        }
        return section
    }

    /// Per value of `xFlag`: the mean, min and max of a final quantity over `runs` (seeds and
    /// anything else not split), x ascending.
    static func meanByX(_ runs: [SweepRecords.Run], xFlag: String, quantity: String) -> (x: [Double], mean: [Double], low: [Double], high: [Double]) {
        var byX: [Double: [Double]] = [:]
        for run in runs {
            guard let x = run.flag(xFlag), let y = run.final(quantity), y.isFinite else { continue }
            byX[x, default: []].append(y)
        }
        let xs = byX.keys.sorted()
        return (xs, xs.map { ReportSupport.mean(byX[$0]!) }, xs.map { byX[$0]!.min()! }, xs.map { byX[$0]!.max()! })
    }

    /// A log-log chart of a final quantity against a numeric grid flag, one series per value of
    /// `seriesFlag` (seeds pooled), each with its least-squares fit (``LogLogFit``) named in the
    /// legend. Nil when there are no positive points.
    static func groupedLogLogChart(_ runs: [SweepRecords.Run], xFlag: String, quantity: String, seriesFlag: String?,
                                   title: String, xTitle: String, yTitle: String) -> (chart: Chart, fits: String)? {
        let values = seriesFlag.map { flag in ReportSupport.sortedValues(runs.compactMap { $0.flags[flag] }) } ?? [""]
        var series: [ChartSeries] = []
        var fitTexts: [String] = []
        for (index, value) in values.prefix(ChartPalette.colours.count).enumerated() {
            let members = runs.filter { run in seriesFlag.map { run.flags[$0] == value } ?? true }
            let label = seriesFlag.map { "\(ReportSupport.symbol($0)) = \(value)" } ?? "final \(quantity)"
            let points = meanByX(members, xFlag: xFlag, quantity: quantity)
            let positive = points.x.indices.filter { points.x[$0] > 0 && points.mean[$0] > 0 }
            guard !positive.isEmpty else { continue }
            // Fit on every run's point (seeds included), not on the means.
            let raw = members.compactMap { run -> (Double, Double)? in
                guard let x = run.flag(xFlag), let y = run.final(quantity), x > 0, y > 0, y.isFinite else { return nil }
                return (x, y)
            }
            let fit = try? LogLogFit.fit(x: raw.map(\.0), y: raw.map(\.1))
            let name = fit.map { ReportSupport.slopeLabel("\(label): ", slope: $0.slope, confidence: $0.confidence95) } ?? label
            series.append(ChartSeries(name, x: positive.map { points.x[$0] }, y: positive.map { points.mean[$0] },
                                      style: .markers, colour: .palette(index),
                                      errorLow: positive.map { points.low[$0] }, errorHigh: positive.map { points.high[$0] }))
            if let fit, let low = raw.map(\.0).min(), let high = raw.map(\.0).max() {
                var line = ChartSeries.fittedPowerLaw("", slope: fit.slope, logIntercept: fit.intercept, xRange: low...high, colour: .palette(index))
                line.inLegend = false
                series.append(line)
                fitTexts.append("\(name) from \(fit.points) runs")
            }
        }
        guard !series.isEmpty else { return nil }
        return (Chart(title: title, x: ChartAxis(xTitle, scale: .log10), y: ChartAxis(yTitle, scale: .log10), series: series),
                fitTexts.isEmpty ? "Too few points for a fit (at least 3 runs with positive values)." : "Fits: " + fitTexts.joined(separator: "; ") + ".")
    }
}

extension String {
    /// The string with its first letter upper-cased ("final risk" → "Final risk").
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
