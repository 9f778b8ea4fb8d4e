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
        // Fits the grid's axes suggest and cannot give: said in the fits section, never silently dropped.
        let missing = SweepGrid.missingFits(axes: sweep.grid)
        if let diagnostics = sweep.diagnostics {
            for section in SweepDiagnosticsReport.sections(diagnostics, missing: missing) { page.add(section) }
        } else {
            page.add(SweepDiagnosticsReport.noDiagnostics(missing: missing))
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

    /// Whether a run diverged (its status, a non-finite logged loss, or a non-finite final
    /// `quantity`): left out of fits, means and axis ranges, drawn as a cross at the plot's edge.
    static func isDiverged(_ run: SweepRecords.Run, quantity: String? = nil) -> Bool {
        if run.summaryRow["status"] == "diverged" || run.records?.hasDiverged == true { return true }
        if let quantity, let value = run.final(quantity), !value.isFinite { return true }
        return false
    }

    /// The note of a caption when some runs diverged.
    static func divergedNote(_ runs: [SweepRecords.Run]) -> String {
        runs.isEmpty ? "" : " ×: \(runs.count) diverged run\(runs.count == 1 ? "" : "s") (\(SweepDiagnosticsReport.shortList(runs.map(\.name)))), drawn at the top edge and left out of the fits, the means and the axis range."
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

    /// The dash of seed number k's curves (by the order of the seeds; cycling): solid, dashed,
    /// dotted, dash-dot. Drawn the same in the legend.
    static let seedDashes: [String?] = [nil, "7 4", "2 3", "10 3 2 3"]

    /// Loss curves against mean-field time, coloured by width M (seeds of one M share the colour
    /// and differ in dash): one chart per combination of the other (non-replicate) grid flags.
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
        // Seeds share their setting's colour and are told apart by the dash of the line.
        let seedValues = sweep.varies("seed") ? ReportSupport.sortedValues(sweep.values(of: "seed")) : []
        func seedDash(_ run: SweepRecords.Run) -> String? {
            guard let seed = run.flags["seed"], let index = seedValues.firstIndex(of: seed) else { return nil }
            return seedDashes[index % seedDashes.count]
        }
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
            var diverged: [SweepRecords.Run] = []
            var edges: [ChartSeries] = []   // drawn last, so "diverged" ends the legend
            for run in runs {
                let curve = run.records!.series(key.key)
                let value = colourFlag.flatMap { run.flags[$0] } ?? run.name
                let colour = colourValues.firstIndex(of: value) ?? series.count
                let label = colourFlag.map { "\(ReportSupport.symbol($0)) = \(value)" } ?? run.name
                // A diverged run's curve is drawn (clipped) but does not set the axes; a cross marks where it left.
                let blewUp = isDiverged(run)
                series.append(ChartSeries(label, x: curve.x, y: curve.y, style: curve.x.count <= 25 ? .lineWithMarkers : .line,
                                          colour: .palette(colour), inLegend: !listed.contains(label), lineWidth: 1.8, markerRadius: 2.5,
                                          affectsRange: !blewUp, dashPattern: seedDash(run),
                                          dataName: seedValues.isEmpty ? nil : run.flags["seed"].map { "\(label), seed \($0)" }))
                listed.insert(label)
                if blewUp {
                    diverged.append(run)
                    let lastTime = curve.x.indices.last(where: { curve.x[$0].isFinite && curve.y[$0].isFinite }).map { curve.x[$0] }
                        ?? curve.x.last(where: \.isFinite) ?? 0
                    edges.append(ChartSeries(diverged.count == 1 ? "diverged" : "", x: [lastTime], y: [.nan], style: .edgeMarkers,
                                             colour: .palette(colour), inLegend: diverged.count == 1))
                }
            }
            let seedsHere = seedValues.filter { seed in runs.contains { $0.flags["seed"] == seed } }
            if seedsHere.count >= 2 {
                // Legend keys for the dashes (grey, no points).
                series += seedsHere.map { seed in
                    ChartSeries("seed \(seed)", x: [], y: [], colour: .reference, lineWidth: 1.8,
                                dashPattern: seedDashes[seedValues.firstIndex(of: seed)! % seedDashes.count])
                }
            }
            series += edges
            let scale = ReportSupport.scale(for: series.filter(\.affectsRange).flatMap(\.y))
            let fixed = zip(groupFlags, groupKey).map { "\(ReportSupport.symbol($0)) = \($1)" }.joined(separator: ", ")
            let seeds = seedsHere.count >= 2 ? " Runs with the same colour are seeds, told apart by the dash of the line (legend: seed s)."
                : runs.count > listed.count ? " Runs with the same colour are replicates." : ""
            section.figure(Chart(title: fixed.isEmpty ? "\(key.title.capitalizedFirst) vs mean-field time" : "Loss curves at \(fixed)",
                                 x: ChartAxis(RunReport.timeAxis), y: ChartAxis(key.title, scale: scale), series: series),
                           caption: "\(key.title.capitalizedFirst) against mean-field time t (Σ η; Σ η/(1−μ) with momentum SGD) for each \(colourFlag.map(ReportSupport.symbol) ?? "run")\(fixed.isEmpty ? "" : " at \(fixed)")\(ReportSupport.scaleNote(scale)). \(colourFlag == "layers" ? "With residual steps 1/L the curves of growing L approach the depth-ODE limit; with 1/√L (α = ½) depth adds capacity." : "In the mean-field limit the curves of growing M converge to one curve.")\(seeds)\(divergedNote(diverged))")
        }
        return section
    }

    /// Final R and Q against weight decay λ on log-log axes, one series per family (runs equal in
    /// every grid setting but λ and the seed) with its own fit, n, interval and verdict (theory ≈ 1,
    /// theory §6 E3); diverged runs are crosses at the top edge, out of the fits and the axis range.
    static func weightDecay(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "weight-decay", title: "Final risk and objective vs weight decay λ")
        let flag = "weight-decay"
        guard sweep.varies(flag) else { return section }
        let familyFlags = sweep.grid.map(\.flag).filter { $0 != flag && sweep.varies($0) && !replicateFlags.contains($0) }
        for (quantity, title) in [("Q", "final objective Q"), ("R", "final training risk R")] {
            let chart = familyLogLogChart(sweep.runs, xFlag: flag, quantity: quantity, familyFlags: familyFlags, theory: 1,
                                          title: "\(title.capitalizedFirst) vs λ", xTitle: "weight decay λ", yTitle: title)
            guard let chart else { continue }
            let families = familyFlags.isEmpty ? "" : " One colour per family (every combination of \(familyFlags.map(ReportSupport.symbol).joined(separator: ", "))), each fitted on its own."
            section.figure(chart.chart, caption: "\(title.capitalizedFirst) at the end of each run against λ (log-log; markers: mean over seeds, bars: min–max).\(families) Lines: fits of log \(quantity) on log λ over the family's runs (across seeds when every seed has every λ); the theory expects slope ≈ 1 when λ sets the final risk (theory §6, E3). \(chart.fits)\(chart.note)")
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
    /// in mean-field time the best rate should not move with width or depth). Diverged runs are
    /// crosses at the top edge, left out of the means and the axis range.
    static func transfer(_ sweep: SweepRecords) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "transfer", title: "Hyperparameter transfer: final loss vs learning rate")
        guard sweep.varies("lr") else { return section }
        let key = lossKey(sweep)
        for seriesFlag in ["heads", "layers"] where sweep.varies(seriesFlag) || (seriesFlag == "heads" && !sweep.varies("layers")) {
            // The other settings are held at their first grid value.
            let held = heldRuns(sweep, holding: sweep.grid.map(\.flag).filter { $0 != "lr" && $0 != seriesFlag && sweep.varies($0) && !replicateFlags.contains($0) })
            let runs = held.runs
            let seriesValues = sweep.varies(seriesFlag) ? ReportSupport.sortedValues(runs.compactMap { $0.flags[seriesFlag] }) : [""]
            var series: [ChartSeries] = [], edges: [ChartSeries] = []
            var best: [String] = []
            var diverged: [SweepRecords.Run] = []
            for (index, value) in seriesValues.enumerated() {
                let members = runs.filter { value.isEmpty || $0.flags[seriesFlag] == value }
                let blewUp = members.filter { isDiverged($0, quantity: key.final) }
                let points = meanByX(members.filter { !isDiverged($0, quantity: key.final) }, xFlag: "lr", quantity: key.final)
                let label = value.isEmpty ? "final \(key.final)" : "\(ReportSupport.symbol(seriesFlag)) = \(value)"
                if !points.x.isEmpty {
                    series.append(ChartSeries(label, x: points.x, y: points.mean, style: .lineWithMarkers, colour: .palette(index),
                                              errorLow: points.low, errorHigh: points.high))
                }
                if !blewUp.isEmpty {
                    diverged += blewUp
                    edges.append(ChartSeries(points.x.isEmpty ? "\(label), diverged" : "", x: blewUp.compactMap { $0.flag("lr") }, y: blewUp.map { _ in .nan },
                                             style: .edgeMarkers, colour: .palette(index), inLegend: points.x.isEmpty))
                }
                if let bestIndex = points.mean.indices.filter({ points.mean[$0].isFinite }).min(by: { points.mean[$0] < points.mean[$1] }) {
                    best.append("\(label): η = \(MarkupText.number(points.x[bestIndex]))")
                }
            }
            series += edges
            guard !series.isEmpty else { continue }
            if !diverged.isEmpty, let index = series.firstIndex(where: { $0.style == .edgeMarkers && !$0.inLegend }) {
                series[index].name = "diverged"
                series[index].inLegend = true
            }
            let allY = series.filter { $0.style != .edgeMarkers }.flatMap(\.y)
            let heldText = held.note
            let chart = Chart(title: "Final \(key.final) vs learning rate" + (sweep.varies(seriesFlag) ? ", per \(ReportSupport.symbol(seriesFlag))" : ""),
                              x: ChartAxis("learning rate η (mean-field time per step)", scale: .log10),
                              y: ChartAxis("final \(key.title)", scale: ReportSupport.scale(for: allY) == .log10 || allY.allSatisfy { $0 > 0 } ? .log10 : .linear),
                              series: series)
            section.figure(chart, caption: "Final \(key.title) against the learning rate η\(sweep.varies(seriesFlag) ? " for each \(ReportSupport.symbol(seriesFlag))" : "") (markers: mean over seeds, bars: min–max).\(heldText) With mean-field scaling the best η should not move with width or depth. Best η: \(best.isEmpty ? "none (every run diverged)" : best.joined(separator: "; ")).\(divergedNote(diverged))")
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

    /// The seed of a run: its grid flag, else its config.
    static func seed(_ run: SweepRecords.Run) -> Int {
        run.flags["seed"].flatMap(Int.init) ?? run.records.map { Int($0.config.seed) } ?? 0
    }

    /// A log-log chart of a final quantity against a numeric grid flag, one series per family (a
    /// combination of `familyFlags`; seeds pooled into markers and bars), each with its own fit
    /// (``SweepDiagnosticsReport/fallbackFit(_:_:seeds:)``) named in the legend with n and its 95%
    /// interval and judged against `theory` (``SlopeVerdict``). Diverged runs are crosses at the
    /// top edge. Nil when there are no positive points.
    static func familyLogLogChart(_ runs: [SweepRecords.Run], xFlag: String, quantity: String, familyFlags: [String], theory: Double,
                                  title: String, xTitle: String, yTitle: String) -> (chart: Chart, fits: String, note: String)? {
        var families: [[String]] = []
        for run in runs {
            let key = familyFlags.map { run.flags[$0] ?? "" }
            if !families.contains(key) { families.append(key) }
        }
        families.sort { lhs, rhs in
            for (a, b) in zip(lhs, rhs) where a != b { return (Double(a) ?? .infinity, a) < (Double(b) ?? .infinity, b) }
            return false
        }
        let shown = Array(families.prefix(SweepDiagnosticsReport.maximumFamilies))
        var series: [ChartSeries] = [], edges: [ChartSeries] = []
        var fitTexts: [String] = []
        var diverged: [SweepRecords.Run] = []
        for (index, family) in shown.enumerated() {
            let members = runs.filter { run in zip(familyFlags, family).allSatisfy { run.flags[$0] == $1 } }
            let label = familyFlags.isEmpty ? "final \(quantity)" : zip(familyFlags, family).map { "\(ReportSupport.symbol($0)) = \($1)" }.joined(separator: ", ")
            let blewUp = members.filter { isDiverged($0, quantity: quantity) }
            let kept = members.filter { !isDiverged($0, quantity: quantity) }
            let points = meanByX(kept, xFlag: xFlag, quantity: quantity)
            let positive = points.x.indices.filter { points.x[$0] > 0 && points.mean[$0] > 0 }
            if !blewUp.isEmpty {
                diverged += blewUp
                edges.append(ChartSeries(diverged.count == blewUp.count ? "diverged" : "", x: blewUp.compactMap { $0.flag(xFlag) }, y: blewUp.map { _ in .nan },
                                         style: .edgeMarkers, colour: .palette(index), inLegend: diverged.count == blewUp.count))
            }
            guard !positive.isEmpty else { continue }
            // Fit on every run's point (seeds kept apart when each has every x), never on the means.
            let raw = kept.compactMap { run -> (Double, Double, Int)? in
                guard let x = run.flag(xFlag), let y = run.final(quantity), x > 0, y > 0, y.isFinite else { return nil }
                return (x, y, seed(run))
            }
            var name = label
            if let fitted = SweepDiagnosticsReport.fallbackFit(raw.map(\.0), raw.map(\.1), seeds: raw.map(\.2)) {
                let n = fitted.seeds > 1 ? "n = \(fitted.fit.points) × \(fitted.seeds) seeds" : "n = \(fitted.fit.points)"
                name = ReportSupport.slopeLabel("\(label): ", slope: fitted.fit.slope, confidence: fitted.fit.confidence95) + ", \(n)"
                let verdict = SweepDiagnosticsReport.verdictText { try SlopeVerdict.decide(fitted.fit, theory: theory, seeds: fitted.seeds) }
                fitTexts.append("\(label): \(verdict)")
                if let low = raw.map(\.0).min(), let high = raw.map(\.0).max() {
                    var line = ChartSeries.fittedPowerLaw("", slope: fitted.fit.slope, logIntercept: fitted.fit.intercept, xRange: low...high, colour: .palette(index))
                    line.inLegend = false
                    series.append(line)
                }
            }
            series.append(ChartSeries(name, x: positive.map { points.x[$0] }, y: positive.map { points.mean[$0] },
                                      style: .markers, colour: .palette(index),
                                      errorLow: positive.map { points.low[$0] }, errorHigh: positive.map { points.high[$0] }))
        }
        guard series.contains(where: { $0.style == .markers }) else { return nil }
        series += edges
        var note = divergedNote(diverged)
        if families.count > shown.count { note += " \(families.count - shown.count) more families are not drawn." }
        return (Chart(title: title, x: ChartAxis(xTitle, scale: .log10), y: ChartAxis(yTitle, scale: .log10), series: series),
                fitTexts.isEmpty ? "Too few points for a fit (at least 3 runs with positive values and distinct λ per family)." : "Fits: " + fitTexts.joined(separator: "; ") + ".",
                note)
    }
}

extension String {
    /// The string with its first letter upper-cased ("final risk" → "Final risk").
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
