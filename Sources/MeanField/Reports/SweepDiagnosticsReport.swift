import Foundation

/// The limit-diagnostics sections of a sweep report, from diagnostics.json (theory §1.5, §6 E2):
/// failure signatures, distance to the reference against M (log-log, fitted slopes and the −1/2
/// reference), against M / log L, over mean-field time, depth error against L, the coordinate
/// check and the table of fitted slopes. Every fit is per family (runs equal in every setting but
/// the one fitted and the seed), shows n and its 95% interval, and gets its verdict from
/// ``SlopeVerdict`` (docs/reports.md).
public enum SweepDiagnosticsReport {
    /// At most this many families on one chart (the palette's distinct colours); the rest are listed.
    static let maximumFamilies = 8

    /// The named failure signatures as a highlighted list, one line per signature and cause with the
    /// runs it covers (or a short all-clear when the file has none).
    public static func signatures(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "signatures", title: "Failure signatures")
        if diagnostics.signatures.isEmpty {
            section.alerts([("None seen.", "No plateau above zero, no distance growing in time, no divergence (theory §6).")], kind: "ok")
        } else {
            section.alerts(diagnostics.signatures.map { signature in
                var text = signature.message
                if !text.contains(signature.runs.first ?? "\u{0}") && !signature.runs.isEmpty {
                    text = "Runs \(signature.runs.joined(separator: ", ")): " + text
                }
                if !signature.knob.isEmpty { text += " → Knob: \(signature.knob)" }
                let cause = signature.cause.isEmpty ? "" : " — cause: \(signature.cause)"
                return (signature.name + cause + ".", text)
            })
        }
        return section
    }

    /// Every diagnostics section that has data, in reading order; `missing` are the fits the grid's
    /// axes suggest and cannot give (``SweepGrid/missingFits(axes:)``), said in the fits section.
    public static func sections(_ diagnostics: DiagnosticsReport, missing: [String] = []) -> [HTMLPage.Section] {
        [width(diagnostics), widthOverDepth(diagnostics), distanceOverTime(diagnostics), depth(diagnostics),
         distanceTable(diagnostics), linearization(diagnostics), coordinates(diagnostics), fits(diagnostics, missing: missing)]
    }

    /// One coloured group of points on a log-log distance chart (one family), and its recorded fit.
    struct PointGroup {
        var label: String
        /// The family key that identifies this group's fit in diagnostics.json ("layers=2 lr=0.02").
        var family: String?
        var x: [Double]
        var y: [Double]
        /// The seed of each point (for a fallback fit across seeds).
        var seeds: [Int] = []
    }

    /// The family of a width entry; files before per-family entries group by depth alone.
    static func family(_ entry: DiagnosticsReport.WidthEntry) -> String {
        entry.family.isEmpty ? "layers=\(entry.layers)" : entry.family
    }

    static func family(_ entry: DiagnosticsReport.DepthEntry) -> String {
        entry.family.isEmpty ? "heads=\(entry.heads)" : entry.family
    }

    /// The families of `keys` in order of first appearance, sorted by their numeric settings.
    static func orderedFamilies(_ keys: [String]) -> [String] {
        Array(Set(keys)).sorted { lhs, rhs in
            let a = tokens(lhs), b = tokens(rhs)
            for (x, y) in zip(a, b) where x != y {
                return (Double(x.value) ?? .infinity, x.value) < (Double(y.value) ?? .infinity, y.value)
            }
            return lhs < rhs
        }
    }

    /// "layers=2 lr=0.02" → [(layers, 2), (lr, 0.02)].
    static func tokens(_ family: String) -> [(flag: String, value: String)] {
        family.split(separator: " ").compactMap { token in
            let parts = token.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// A family as a legend reads it: "layers=2 lr=0.02" → "L = 2, η = 0.02".
    static func familyLabel(_ family: String) -> String {
        let parts = tokens(family)
        return parts.isEmpty ? (family.isEmpty ? "all runs" : family) : parts.map { "\(ReportSupport.symbol($0.flag)) = \($0.value)" }.joined(separator: ", ")
    }

    /// "name1, name2 and 3 more".
    static func shortList(_ names: [String], count: Int = 3) -> String {
        names.count <= count ? names.joined(separator: ", ") : names.prefix(count).joined(separator: ", ") + " and \(names.count - count) more"
    }

    /// The recorded fit of a group: same family, else (files before per-family labels) a fit whose
    /// family holds every setting of the group's.
    static func recordedFit(_ recorded: [DiagnosticsReport.Fit], family: String?) -> DiagnosticsReport.Fit? {
        guard let family else { return nil }
        if let exact = recorded.first(where: { $0.family == family }) { return exact }
        let wanted = tokens(family)
        return recorded.first { fit in wanted.allSatisfy { token in fit.holds(token.flag, Double(token.value) ?? .nan) || fit.family.split(separator: " ").contains(Substring("\(token.flag)=\(token.value)")) } }
    }

    /// The verdict of a fit in words (or why it has none).
    static func verdictText(_ decide: () throws -> SlopeVerdict) -> String {
        do { return try decide().text } catch { return "no verdict: \(error)" }
    }

    /// RMS function-space distance to the reference, risk gap and particle distances against M,
    /// one colour per family, each with its fitted slope, n and 95% CI in the legend, its verdict
    /// and its coupled references in the caption, and the −1/2 reference slope (claim C1).
    static func width(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width", title: "Distance to the reference vs width M")
        let quantities: [(key: String, title: String, value: (DiagnosticsReport.WidthEntry) -> Double, theory: Double?)] = [
            ("rms_function_distance", "RMS function-space distance to the reference", { $0.functionDistance.squareRoot() }, -0.5),
            ("risk_gap", "risk gap |R_M − R_ref|", { $0.riskGap }, -0.5),
            ("particle_sliced_w2", "sliced W2 of the head particles (mean over layers)", { ReportSupport.mean($0.particleSlicedW2) }, -0.5),
            ("particle_sinkhorn", "Sinkhorn divergence of the head particles (mean over layers)", { ReportSupport.mean($0.particleSinkhorn) }, nil),
        ]
        let allFamilies = orderedFamilies(diagnostics.width.map(family))
        let families = Array(allFamilies.prefix(maximumFamilies))
        let more = allFamilies.count > families.count ? " \(allFamilies.count - families.count) more families are in the table of fitted slopes." : ""
        // Each family's coupled references (the widest run of the family, one per seed).
        let references = families.map { key -> String in
            let members = diagnostics.width.filter { family($0) == key }
            let names = Array(Set(members.map(\.reference))).sorted()
            let widest = members.map(\.referenceHeads).max() ?? 0
            return "\(familyLabel(key)): M = \(widest) (\(shortList(names)))"
        }
        let referenceText = references.isEmpty ? "" : " Coupled references (the widest run of each family, one per seed): " + references.joined(separator: "; ") + "."
        for quantity in quantities {
            let groups = families.map { key in
                let members = diagnostics.width.filter { family($0) == key }
                return PointGroup(label: familyLabel(key), family: key, x: members.map { Double($0.heads) }, y: members.map(quantity.value),
                                  seeds: members.map(\.seed))
            }
            let recorded = diagnostics.fits.filter { $0.quantity == quantity.key && ["heads", "units"].contains($0.against) }
            guard let chart = logLogChart(groups, recorded: recorded, theory: quantity.theory, title: quantity.title.capitalizedFirst + " vs M",
                                          xTitle: "width M per layer (heads, or ResNet units)", yTitle: quantity.title) else { continue }
            let theory = quantity.theory.map { " Dashed grey: the theory's slope \(ReportSupport.signed($0)) (distance ∝ M^−1/2)." } ?? ""
            section.figure(chart.chart, caption: "\(quantity.title.capitalizedFirst) at the end of training for coupled runs of width M (log-log; one colour per family — runs equal in every setting but M and the seed — each fitted on its own). \(chart.fits)\(theory)\(referenceText)\(more)")
        }
        if !diagnostics.skipped.isEmpty {
            section.collapsed("Runs the diagnostics skipped (\(diagnostics.skipped.count))") { inner in
                inner.table(headers: ["reason"], rows: diagnostics.skipped.map { [$0] })
            }
        }
        return section
    }

    /// The same distance against M / log L, the quantity the theory needs to grow (theory §6): one
    /// chart per family of every setting but M, L and the seed, one fit over its depths.
    static func widthOverDepth(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "width-depth", title: "Distance vs M / log L")
        let usable = diagnostics.width.filter { $0.layers >= 2 }
        func outer(_ entry: DiagnosticsReport.WidthEntry) -> String {
            tokens(family(entry)).filter { $0.flag != "layers" }.map { "\($0.flag)=\($0.value)" }.joined(separator: " ")
        }
        for key in orderedFamilies(usable.map(outer)).prefix(4) {
            let members = usable.filter { outer($0) == key }
            guard Set(members.map(\.layers)).count >= 2 else { continue }
            let groups = Array(Set(members.map(\.layers))).sorted().map { depth in
                let atDepth = members.filter { $0.layers == depth }
                return PointGroup(label: "L = \(depth)", family: nil,
                                  x: atDepth.map { Double($0.heads) / log(Double($0.layers)) }, y: atDepth.map { $0.functionDistance.squareRoot() })
            }
            // One fit over the family's depths: if depth costs only log L in width, the points fall on one line.
            let all = PointGroup(label: "all L", family: nil, x: groups.flatMap(\.x), y: groups.flatMap(\.y))
            let name = key.isEmpty ? "" : " (\(familyLabel(key)))"
            if let chart = logLogChart(groups, recorded: [], theory: nil, title: "RMS function-space distance vs M / log L\(name)",
                                       xTitle: "M / log L (heads over natural log of depth)", yTitle: "RMS function-space distance",
                                       pooledFit: all) {
                section.figure(chart.chart, caption: "The RMS distance of the width study against M / log L (runs with L ≥ 2\(key.isEmpty ? "" : ", family \(familyLabel(key))")). The theory needs M / log L → ∞: if the points of different L fall on one line, depth costs only a logarithmic factor in width. \(chart.fits)")
            }
        }
        return section
    }

    /// Distance to the reference over mean-field time, one curve per run, coloured by M.
    static func distanceOverTime(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "distance-time", title: "Distance to the reference over mean-field time")
        let curves = diagnostics.width.filter { !$0.curve.t.isEmpty || !$0.curve.riskGapT.isEmpty }
        guard !curves.isEmpty else { return section }
        let widths = Array(Set(curves.map(\.heads))).sorted()
        let familyCount = Set(curves.map(family)).count
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
            let families = familyCount > 1 ? " The lines of \(familyCount) families share this chart (each against its own reference); no fit is made here." : ""
            section.figure(Chart(title: title.capitalizedFirst + " over time", x: ChartAxis(RunReport.timeAxis), y: ChartAxis(title, scale: scale), series: series),
                           caption: "\(title.capitalizedFirst) between each run and its coupled reference against mean-field time (\(key)\(ReportSupport.scaleNote(scale)); one line per run, coloured by M). A distance that keeps growing in time means the width is too small for the depth.\(families)")
        }
        return section
    }

    /// RMS depth error against L (theory slope −1, theory §6), one colour per family.
    static func depth(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "depth", title: "Depth error vs L")
        guard !diagnostics.depth.isEmpty else { return section }
        let families = Array(orderedFamilies(diagnostics.depth.map(family)).prefix(maximumFamilies))
        let references = families.map { key -> String in
            let members = diagnostics.depth.filter { family($0) == key }
            return "\(familyLabel(key)): L = \(members.map(\.referenceLayers).max() ?? 0) (\(shortList(Array(Set(members.map(\.reference))).sorted())))"
        }
        for (key, title, value) in [("rms_depth_error", "RMS distance to the deepest run, end of training", { (point: DiagnosticsReport.DepthEntry) in point.functionDistance.squareRoot() }),
                                    ("rms_depth_error_init", "RMS distance to the deepest run, at initialization", { (point: DiagnosticsReport.DepthEntry) in point.initialFunctionDistance.squareRoot() })] {
            let groups = families.map { familyKey in
                let members = diagnostics.depth.filter { family($0) == familyKey }
                return PointGroup(label: familyLabel(familyKey), family: familyKey, x: members.map { Double($0.layers) }, y: members.map(value),
                                  seeds: members.map(\.seed))
            }
            let recorded = diagnostics.fits.filter { $0.quantity == key && $0.against == "layers" }
            guard let chart = logLogChart(groups, recorded: recorded, theory: -1, title: title.capitalizedFirst,
                                          xTitle: "layers L", yTitle: "RMS function-space distance") else { continue }
            section.figure(chart.chart, caption: "\(title.capitalizedFirst) against depth L (log-log; one colour per family — runs equal in every setting but L and the seed). The theory expects the depth discretisation error to fall as 1/L (slope −1, dashed grey). \(chart.fits) References (the deepest run of each family, one per seed): \(references.joined(separator: "; ")).")
        }
        return section
    }

    /// The coordinate check per family: activation and update sizes of the checked layers against
    /// M (or L) at the measured steps, the per-layer slopes with their verdicts, and the layers named
    /// mis-scaled.
    static func coordinates(_ diagnostics: DiagnosticsReport) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "coordinates", title: "Coordinate check")
        if diagnostics.coordinateFamilies.isEmpty {
            if !diagnostics.coordinates.isEmpty {
                section.paragraph("This diagnostics.json predates the per-family coordinate check (fixed steps, a slope and verdict per layer); run meanfield diagnose DIR again to get it.")
            }
            return section
        }
        section.alerts(diagnostics.coordinateFamilies.map { family in
            let title = family.misScaled.isEmpty ? (family.inconclusive.isEmpty ? "Flat." : "Inconclusive.") : "Mis-scaled."
            return (title, CoordinateCheck.summary(family))
        }, kind: diagnostics.coordinateFamilies.contains { !$0.misScaled.isEmpty } ? "warning" : "ok")
        // Families in numeric order of their fixed values (M = 4, 16, 64, 256, not 16, 256, 4, 64), each axis together.
        let axes = diagnostics.coordinateFamilies.map(\.against).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let orderedFamilies = diagnostics.coordinateFamilies.sorted { a, b in
            a.against != b.against ? axes.firstIndex(of: a.against)! < axes.firstIndex(of: b.against)!
                : a.family.compare(b.family, options: .numeric) == .orderedAscending
        }
        for family in orderedFamilies.prefix(2 * maximumFamilies) {
            let axis = family.against == "heads" ? "M" : "L"
            let entries = diagnostics.coordinates.filter { $0.family == family.family && $0.against == family.against }
            let fits = diagnostics.coordinateFits.filter { $0.family == family.family && $0.against == family.against }
            // Positions: (label, layer index in a run).
            var positions: [(name: String, layer: (DiagnosticsReport.Coordinate) -> Bool)] = []
            if family.against == "heads" {
                let layers = Array(Set(entries.map(\.layer))).sorted()
                positions = layers.map { layer in ("layer \(layer)", { $0.layer == layer }) }
            } else {
                let depths = Array(Set(entries.map(\.layers))).sorted()
                var fractions = Set<Double>()
                for (index, depth) in depths.enumerated() {
                    let here = Set(entries.filter { $0.layers == depth }.map { (Double($0.layer) / Double(max(1, depth)) * 1e9).rounded() / 1e9 })
                    fractions = index == 0 ? here : fractions.intersection(here)
                }
                positions = fractions.sorted().map { fraction in
                    ("ℓ/L = \(MarkupText.number(fraction, significantDigits: 3))",
                     { (Double($0.layer) / Double(max(1, $0.layers)) * 1e9).rounded() / 1e9 == fraction })
                }
            }
            let shownIndices = ReportSupport.evenlySpaced(positions.count, count: maximumFamilies)
            let shown = shownIndices.map { positions[$0] }
            let selectionNote = shown.count < positions.count
                ? " Drawn: \(shown.map(\.name).joined(separator: ", ")) of the \(positions.count) checked; the table has every one."
                : ""
            let steps = family.steps
            let laterSteps = steps.filter { $0 > 0 }
            for (key, title, value, chartSteps) in [("activation_rms", "activation RMS", \DiagnosticsReport.Coordinate.activationRMS, [steps.first ?? 0, steps.last ?? 0]),
                                                    ("update_rms", "update RMS", \DiagnosticsReport.Coordinate.updateRMS, laterSteps.isEmpty ? [] : [laterSteps.first!, laterSteps.last!])] {
                var series: [ChartSeries] = []
                let uniqueSteps = Array(Set(chartSteps)).sorted()
                for (index, position) in shown.enumerated() {
                    let misScaled = family.misScaled.contains(position.name)
                    for step in uniqueSteps {
                        // Seeds of the same size are averaged.
                        let points = entries.filter { position.layer($0) && $0.step == step }
                        let sizes = Array(Set(points.map { family.against == "heads" ? $0.heads : $0.layers })).sorted()
                        let y = sizes.map { size in ReportSupport.mean(points.filter { (family.against == "heads" ? $0.heads : $0.layers) == size }.map { $0[keyPath: value] }) }
                        guard y.contains(where: { $0.isFinite && $0 > 0 }) else { continue }
                        let dashed = uniqueSteps.count > 1 && step == uniqueSteps.first
                        series.append(ChartSeries("\(position.name)\(misScaled ? " (mis-scaled)" : ""), step \(step)", x: sizes.map(Double.init), y: y,
                                                  style: .lineWithMarkers, colour: .palette(index), dashed: dashed,
                                                  lineWidth: misScaled ? 2.6 : 1.6, markerRadius: 3))
                    }
                }
                guard !series.isEmpty else { continue }
                let yValues = series.flatMap(\.y)
                let yScale: AxisScale = yValues.filter(\.isFinite).allSatisfy { $0 > 0 } ? .log10 : .linear
                let chart = Chart(title: "\(title.capitalizedFirst) vs \(axis), \(familyLabel(family.family))",
                                  x: ChartAxis(family.against == "heads" ? "heads per layer M" : "layers L", scale: .log10),
                                  y: ChartAxis(title + " (per coordinate)", scale: yScale), series: series)
                let stepText = uniqueSteps.count > 1 ? "dashed: step \(uniqueSteps.first!), solid: step \(uniqueSteps.last!)" : "step \(uniqueSteps.first!)"
                section.figure(chart, caption: "\(title.capitalizedFirst) (\(key)) against \(axis) for the family \(familyLabel(family.family)) (mean over seeds; \(stepText) — steps every run of the family has a checkpoint at). Checked: \(family.selection).\(selectionNote) Under mean-field scaling the sizes stay flat as \(axis) grows; a line that rises or falls names a mis-scaled layer.\(family.note.isEmpty ? "" : " Note: \(family.note).")")
            }
            // The per-layer slopes and verdicts.
            let columns = Array(Set(fits.map { "\($0.quantity)#\($0.step)" })).sorted { a, b in
                let x = a.split(separator: "#"), y = b.split(separator: "#")
                return (x[0], Int(x[1]) ?? 0) < (y[0], Int(y[1]) ?? 0)
            }
            guard !columns.isEmpty else { continue }
            let rows = positions.map { position -> [String] in
                var row = [position.name]
                var kinds: [SlopeVerdict.Kind] = []
                for column in columns {
                    let parts = column.split(separator: "#")
                    guard let fit = fits.first(where: { $0.position == position.name && $0.quantity == parts[0] && String($0.step) == parts[1] }) else {
                        row.append("—")
                        continue
                    }
                    if let verdict = try? fit.decide() {
                        kinds.append(verdict.kind)
                        row.append("\(ReportSupport.signed(fit.slope)) [\(ReportSupport.signed(fit.confidence95[0])), \(ReportSupport.signed(fit.confidence95[1]))] \(verdict.kind.rawValue)")
                    } else {
                        row.append("no verdict (interval not finite)")
                    }
                }
                row.append(kinds.contains(.inconsistent) ? "mis-scaled" : kinds.contains(.inconclusive) ? "inconclusive" : kinds.isEmpty ? "—" : "flat")
                return row
            }
            let headers = ["position"] + columns.map { column -> String in
                let parts = column.split(separator: "#")
                return "\(parts[0] == "activation_rms" ? "activation" : "update") slope, step \(parts[1])"
            } + ["verdict"]
            let n = fits.first.map { $0.seeds > 1 ? "n = \($0.points) × \($0.seeds) seeds" : "n = \($0.points)" } ?? ""
            let caption = "Slopes of log size against log \(axis) with 95% CIs (\(n)), \(familyLabel(family.family)). Verdict per slope: the theory is flat (0 ± ¼; finite-width corrections are small slopes, not a scaling); a slope is inconsistent — the layer mis-scaled — when its interval misses that band and either excludes the ±½ of a 1/√M mis-scaling or is narrower than ½ (docs/reports.md)."
            if rows.count > 12 {
                section.collapsed("Per-layer slopes, \(familyLabel(family.family)) over \(axis) (\(rows.count) positions)") { inner in
                    inner.table(headers: headers, rows: rows, caption: caption)
                }
            } else {
                section.table(headers: headers, rows: rows, caption: caption)
            }
        }
        return section
    }

    /// The fitted slopes recorded in the file, each with n, its interval, the theory's value and the
    /// verdict; and why a fit the runs suggest is missing.
    static func fits(_ diagnostics: DiagnosticsReport, missing: [String] = []) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "fits", title: "Fitted slopes")
        if !diagnostics.fits.isEmpty {
            let rows = diagnostics.fits.map { fit -> [String] in
                let theory: Double? = fit.theory.isFinite ? fit.theory : nil
                let interval = fit.confidence95.count == 2 ? "\(ReportSupport.signed(fit.confidence95[0])) … \(ReportSupport.signed(fit.confidence95[1]))" : "—"
                let verdict: String
                if theory == nil { verdict = "— (no theory slope)" } else {
                    do { verdict = try fit.decide().kind.rawValue } catch { verdict = "error: \(error)" }
                }
                let n = fit.seeds > 1 ? "\(fit.points) × \(fit.seeds) seeds" : "\(fit.points)"
                return [fit.quantity, fit.against, familyLabel(fit.family), ReportSupport.signed(fit.slope), interval, n,
                        theory.map(ReportSupport.signed) ?? "—", verdict, shortList(fit.references, count: 2)]
            }
            section.table(headers: ["quantity", "against", "family (held fixed)", "slope", "95% CI", "n", "theory", "verdict", "reference"], rows: rows,
                          caption: "Log-log slopes from diagnostics.json, one per family (theory §6: RMS distance vs M ≈ −1/2, depth error vs L ≈ −1, final Q and R vs λ ≈ 1). Consistent: the interval holds the theory's slope and excludes 0; inconsistent: it excludes the theory's slope and either excludes 0 or is narrower than |theory|; otherwise inconclusive.",
                          numeric: [3, 6])
        }
        let reasons = diagnostics.unfitted + missing.filter { !diagnostics.unfitted.contains($0) }
        if diagnostics.fits.isEmpty {
            section.paragraph(reasons.isEmpty
                ? "No fitted slopes: no family of runs varies M, L or λ over 3 values (a slope with a 95% interval needs 3 points per family)."
                : "No fitted slopes. Why:")
        }
        if !reasons.isEmpty {
            if !diagnostics.fits.isEmpty { section.paragraph("Fits the runs suggest but cannot give:") }
            section.alerts(reasons.map { ("No fit.", $0) })
        }
        return section
    }

    /// The fits section of a sweep without diagnostics.json: why there are no fits.
    public static func noDiagnostics(missing: [String]) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "fits", title: "Fitted slopes")
        section.paragraph("No fitted slopes: the sweep has no diagnostics.json. Run meanfield diagnose DIR (meanfield sweep runs it at the end) for the width, depth and λ fits.")
        if !missing.isEmpty { section.alerts(missing.map { ("No fit.", $0) }) }
        return section
    }

    /// A log-log chart of groups of positive points (one family each), one colour per group, each
    /// with a fitted power law named in the legend with n and its 95% interval: the file's fit for
    /// that family when `recorded` has one (drawn through the group's geometric centre), else
    /// ``LogLogFit`` over the group (across seeds when every seed has every x). `pooledFit` adds
    /// one fit over all groups instead. An optional dashed theory slope goes through the geometric
    /// centre of all points, and each fit's verdict against it is in the caption text.
    static func logLogChart(_ groups: [PointGroup], recorded: [DiagnosticsReport.Fit], theory: Double?, title: String,
                            xTitle: String, yTitle: String, pooledFit: PointGroup? = nil) -> (chart: Chart, fits: String)? {
        func positive(_ group: PointGroup) -> (x: [Double], y: [Double], seeds: [Int]) {
            let kept = group.x.indices.filter { group.x[$0] > 0 && group.x[$0].isFinite && group.y[$0] > 0 && group.y[$0].isFinite }
            return (kept.map { group.x[$0] }, kept.map { group.y[$0] }, kept.map { $0 < group.seeds.count ? group.seeds[$0] : 0 })
        }
        func centre(_ x: [Double], _ y: [Double]) -> (x: Double, y: Double) {
            (exp(ReportSupport.mean(x.map(log))), exp(ReportSupport.mean(y.map(log))))
        }
        let allPoints = groups.map(positive).reduce(into: (x: [Double](), y: [Double]())) { $0.x += $1.x; $0.y += $1.y }
        guard !allPoints.x.isEmpty else { return nil }
        var series: [ChartSeries] = []
        var fitTexts: [String] = []
        func describe(_ name: String, slope: Double, confidence: [Double], points: Int, seeds: Int, source: String) -> (legend: String, text: String) {
            let n = seeds > 1 ? "n = \(points) × \(seeds) seeds" : "n = \(points)"
            let legend = ReportSupport.slopeLabel("\(name): ", slope: slope, confidence: confidence) + ", \(n)"
            // The verdict's text carries the slope, its interval and n.
            guard let theory else { return (legend, "\(legend) (\(source))") }
            let verdict = verdictText { try SlopeVerdict.decide(slope: slope, confidence95: confidence, theory: theory, points: points, seeds: max(1, seeds)) }
            return (legend, "\(name): \(verdict) (\(source))")
        }
        for (index, group) in groups.enumerated() {
            let points = positive(group)
            guard !points.x.isEmpty, let low = points.x.min(), let high = points.x.max() else { continue }
            var name = group.label
            var line: ChartSeries?
            if pooledFit == nil {
                if let fit = recordedFit(recorded, family: group.family) ?? (recorded.count == 1 && groups.count == 1 ? recorded[0] : nil), low < high {
                    let middle = centre(points.x, points.y)
                    let described = describe(group.label, slope: fit.slope, confidence: fit.confidence95, points: fit.points, seeds: fit.seeds, source: RunFormat.diagnosticsFile)
                    name = described.legend
                    line = .fittedPowerLaw("", slope: fit.slope, logIntercept: log(middle.y) - fit.slope * log(middle.x), xRange: low...high, colour: .palette(index))
                    fitTexts.append(described.text)
                } else if let fitted = fallbackFit(points.x, points.y, seeds: points.seeds) {
                    let described = describe(group.label, slope: fitted.fit.slope, confidence: fitted.fit.confidence95, points: fitted.fit.points,
                                             seeds: fitted.seeds, source: fitted.seeds > 1 ? "across seeds" : "least squares over \(fitted.fit.points) runs")
                    name = described.legend
                    line = .fittedPowerLaw("", slope: fitted.fit.slope, logIntercept: fitted.fit.intercept, xRange: low...high, colour: .palette(index))
                    fitTexts.append(described.text)
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
                let described = describe("\(pooledFit.label) fit", slope: fit.slope, confidence: fit.confidence95, points: fit.points, seeds: 1,
                                         source: "least squares over \(fit.points) runs")
                series.append(.fittedPowerLaw(described.legend, slope: fit.slope, logIntercept: fit.intercept, xRange: low...high, colour: .palette(groups.count)))
                fitTexts.append(described.text)
            }
        }
        if let theory, let low = allPoints.x.min(), let high = allPoints.x.max(), low < high {
            let name = theory == -0.5 ? "−1/2 reference" : "slope \(ReportSupport.signed(theory)) reference"
            series.append(.referenceSlope(name, slope: theory, through: centre(allPoints.x, allPoints.y), xRange: low...high))
        }
        let fitText = fitTexts.isEmpty ? "Too few points for a fit (3 distinct x per family)." : "Fitted slopes: " + fitTexts.joined(separator: "; ") + "."
        return (Chart(title: title, x: ChartAxis(xTitle, scale: .log10), y: ChartAxis(yTitle, scale: .log10), series: series), fitText)
    }

    /// A fit of one family's points: across seeds when at least two seeds have a value at every x
    /// (≥ 3 distinct x), else least squares over every point.
    static func fallbackFit(_ x: [Double], _ y: [Double], seeds: [Int]) -> (fit: LogLogFit, seeds: Int)? {
        let xs = Array(Set(x)).sorted()
        let seedValues = Array(Set(seeds)).sorted()
        if seedValues.count >= 2 && xs.count >= 3 {
            let rows: [[Double]] = seedValues.compactMap { seed in
                let row = xs.compactMap { value in x.indices.first { x[$0] == value && seeds[$0] == seed }.map { y[$0] } }
                return row.count == xs.count ? row : nil
            }
            if rows.count >= 2, let fit = try? LogLogFit.acrossSeeds(x: xs, ySeeds: rows) { return (fit, rows.count) }
        }
        return (try? LogLogFit.fit(x: x, y: y)).map { ($0, 1) }
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
