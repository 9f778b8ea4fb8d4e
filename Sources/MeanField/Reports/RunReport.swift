import Foundation

/// The report of one run directory: metadata, loss curves, norms, per-layer spread, the confusion
/// matrix (image runs) and the head particles of one layer on their initial principal components.
public enum RunReport {
    static let timeAxis = "mean-field time t (Σ η; Σ η/(1−μ) with momentum)"

    /// The page for `run`; `particleLayer` is the layer whose heads are projected.
    public static func page(_ run: RunRecord, particleLayer: Int = 0) -> HTMLPage {
        var page = HTMLPage(title: "Run report: \(run.name)", subtitle: subtitle(run))
        page.add(overview(run))
        page.add(run.isImageRun ? imageCurves(run) : regressionCurves(run))
        if run.hasMetric("pl_constant") { page.add(tangentKernel(run)) }
        page.add(norms(run))
        page.add(spread(run))
        if let confusion = run.confusion { page.add(confusionSection(confusion)) }
        page.add(particles(run, layer: particleLayer))
        return page
    }

    static func subtitle(_ run: RunRecord) -> String {
        var parts: [String] = []
        let config = run.configValues
        if let task = config["task"]?.string { parts.append("task \(task)") }
        let isResNet = run.config.model != .transformer
        if isResNet { parts.append(run.config.model.rawValue) }
        let model = (isResNet ? [("units", "M"), ("layers", "L"), ("hidden_dim", "D")] : [("heads", "M"), ("ffn_units", "M′"), ("layers", "L"), ("token_dim", "D")])
            .compactMap { key, symbol in config[key].map { "\(symbol) = \($0.displayText)" } }
        if !model.isEmpty { parts.append(model.joined(separator: ", ")) }
        if let status = run.status { parts.append(status) }
        parts.append(run.path)
        return parts.joined(separator: " · ")
    }

    /// Config highlights, versions from the manifest, the summary, and the full config (collapsed).
    static func overview(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "overview", title: "Run")
        let config = run.configValues
        let isResNet = run.config.model != .transformer
        let modelKeys = isResNet ? ["model", "units", "hidden_dim", "layers", "activation", "feature_map", "feature_scale", "ntk_every"]
            : ["heads", "ffn_units", "layers", "token_dim", "head_dim", "attention", "score", "activation"]
        let keys = ["task"] + modelKeys + ["optimizer", "lr", "ordinary_lr_scale", "schedule", "weight_decay", "batch_size", "steps", "epochs", "subset", "seed"]
        var pairs: [(String, String)] = keys.compactMap { key in config[key].map { (key, $0.displayText) } }
        pairs += run.manifest?.provenance ?? []
        if !pairs.isEmpty { section.keyValues(pairs, caption: "Configuration and provenance") }
        if let problem = run.configProblem { section.paragraph("This build's checks reject the recorded config: \(problem).") }
        if let summary = run.summary {
            section.keyValues(summary.displayRows, caption: "Summary (summary.json)")
            section.keyValues(parametrizationRows(run.config, summary.trainedParametrization),
                              caption: "Parametrization (theory §1.2–1.4, §1.6)" + (summary.parametrization == nil
                                  ? ": not recorded, so the legacy one of runs written before it was (flow scale L·M at every α)" : ""))
        } else if !run.metrics.isEmpty {
            section.paragraph("No summary.json: the run is in progress or was interrupted; \(run.metrics.count) metrics lines so far.")
        }
        if !config.isEmpty {
            section.collapsed("Full configuration (config.json, \(config.count) keys)") { inner in
                inner.keyValues(config.keys.sorted().map { ($0, config[$0]!.displayText) })
            }
        }
        return section
    }

    /// The scaling factors of the run's model (``Parametrization/rows(layers:exponent:heads:units:)``).
    static func parametrizationRows(_ config: TrainConfig, _ parametrization: Parametrization) -> [(String, String)] {
        let transformer = config.model == .transformer
        return parametrization.rows(layers: config.layers, exponent: config.residualExponent, heads: transformer ? config.heads : nil,
                                    units: transformer ? config.ffnUnits : config.units)
    }

    /// R, eval_R and Q against mean-field time.
    static func regressionCurves(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "losses", title: "Risk over mean-field time")
        let quantities = [("R", "training risk R"), ("eval_R", "evaluation risk eval_R"), ("Q", "objective Q = R + (λ/2)∫|θ|²dρ")]
            .filter { run.hasMetric($0.0) }
        guard !quantities.isEmpty else { return section }
        let curves = quantities.map { key, name in (name, run.series(key)) }
        let scale = ReportSupport.scale(for: curves.flatMap(\.1.y))
        let series = curves.enumerated().map { index, curve in
            ChartSeries(curve.0, x: curve.1.x, y: curve.1.y, style: curve.1.x.count <= 30 ? .lineWithMarkers : .line,
                        dashed: index == 2)
        }
        let chart = Chart(title: "Risk vs mean-field time", x: ChartAxis(timeAxis), y: ChartAxis("risk (mean squared error)", scale: scale), series: series)
        var caption = "Training risk R on the training set, risk eval_R on held-out data, and the regularised objective Q against mean-field time\(ReportSupport.scaleNote(scale))."
        if let last = run.last("R"), let first = run.series("R").y.first {
            caption += " R went from \(MarkupText.number(first)) to \(MarkupText.number(last))."
        }
        section.figure(chart, caption: caption)
        if run.hasMetric("lr"), Set(run.series("lr").y).count > 1 {
            let lr = run.series("lr", along: "step")
            section.figure(Chart(title: "Learning rate schedule", x: ChartAxis("step"), y: ChartAxis("learning rate η"),
                                 series: [ChartSeries("η", x: lr.x, y: lr.y)]),
                           caption: "The step size η per step; mean-field time is its running sum.")
        }
        return section
    }

    /// Train and test loss and accuracy per epoch.
    static func imageCurves(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "losses", title: "Loss and accuracy per epoch")
        let along = run.hasMetric("epoch") ? "epoch" : "t"
        let xTitle = along == "epoch" ? "epoch" : timeAxis
        let losses = [("train_loss", "train loss"), ("test_loss", "test loss")].filter { run.hasMetric($0.0) }
        if !losses.isEmpty {
            let curves = losses.map { ($0.1, run.series($0.0, along: along)) }
            let scale = ReportSupport.scale(for: curves.flatMap(\.1.y))
            let chart = Chart(title: "Cross-entropy loss", x: ChartAxis(xTitle), y: ChartAxis("cross-entropy loss (nats)", scale: scale),
                              series: curves.map { ChartSeries($0.0, x: $0.1.x, y: $0.1.y, style: .lineWithMarkers, markerRadius: 2.5) })
            var caption = "Loss on the training subset and on the test subset after each epoch\(ReportSupport.scaleNote(scale))."
            if let train = run.last("train_loss"), let test = run.last("test_loss") {
                caption += " Final: train \(MarkupText.number(train)), test \(MarkupText.number(test))."
            }
            section.figure(chart, caption: caption)
        }
        let accuracies = [("train_acc", "train accuracy"), ("test_acc", "test accuracy")].filter { run.hasMetric($0.0) }
        if !accuracies.isEmpty {
            let chart = Chart(title: "Classification accuracy", x: ChartAxis(xTitle), y: ChartAxis("accuracy (fraction correct)", domain: 0...1),
                              series: accuracies.map { ChartSeries($0.1, x: run.series($0.0, along: along).x, y: run.series($0.0, along: along).y, style: .lineWithMarkers, markerRadius: 2.5) })
            var caption = "Fraction of images classified correctly."
            if let train = run.last("train_acc"), let test = run.last("test_acc") {
                caption += " Final: train \(MarkupText.number(train * 100, significantDigits: 3))%, test \(MarkupText.number(test * 100, significantDigits: 3))%."
            }
            section.figure(chart, caption: caption)
        }
        return section
    }

    /// The NTK Gram matrix's λ_min and the local PL constant 2λ_min/n against the flow's observed
    /// dissipation rate −(dR/dt)/R (theory §4; ResNet teacher-regression runs with --ntk-every).
    static func tangentKernel(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "ntk", title: "Neural tangent kernel and the PL constant")
        let pl = run.series("pl_constant"), rate = run.series("dissipation_rate"), lambda = run.series("ntk_lambda_min")
        let all = pl.y + rate.y
        let scale = ReportSupport.scale(for: all)
        section.figure(Chart(title: "PL constant vs dissipation rate", x: ChartAxis(timeAxis), y: ChartAxis("rate (1 / time)", scale: scale),
                             series: [ChartSeries("−(dR/dt)/R of the flow = rᵀKr/(n²R)", x: rate.x, y: rate.y, style: .lineWithMarkers),
                                      ChartSeries("PL constant 2λ_min(K)/n", x: pl.x, y: pl.y, style: .lineWithMarkers, dashed: true)]),
                       caption: "Under gradient flow dR/dt = −rᵀKr/n² ≤ −(2λ_min(K)/n)R: the dissipation rate stays above the PL constant; a PL constant bounded away from 0 along the run gives linear convergence (theory §4). K uses the mean-field flow scales\(ReportSupport.scaleNote(scale)).")
        let lambdaScale = ReportSupport.scale(for: lambda.y)
        section.figure(Chart(title: "Smallest eigenvalue of the NTK Gram matrix", x: ChartAxis(timeAxis), y: ChartAxis("λ_min(K)", scale: lambdaScale),
                             series: [ChartSeries("λ_min(K)", x: lambda.x, y: lambda.y, style: .lineWithMarkers)]),
                       caption: "λ_min of K on the training points, computed in Double from per-sample Jacobians\(ReportSupport.scaleNote(lambdaScale)).")
        return section
    }

    /// Gradient and parameter norms against mean-field time.
    static func norms(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "norms", title: "Norms")
        let quantities = [("grad_norm", "gradient norm |∇Q|"), ("param_norm", "parameter norm |θ|")].filter { run.hasMetric($0.0) }
        guard !quantities.isEmpty else { return section }
        let curves = quantities.map { ($0.1, run.series($0.0)) }
        let scale: AxisScale = curves.flatMap(\.1.y).filter(\.isFinite).allSatisfy { $0 > 0 } ? .log10 : .linear
        let chart = Chart(title: "Gradient and parameter norms", x: ChartAxis(timeAxis), y: ChartAxis("Euclidean norm", scale: scale),
                          series: curves.map { ChartSeries($0.0, x: $0.1.x, y: $0.1.y, style: $0.1.x.count <= 30 ? .lineWithMarkers : .line, markerRadius: 2.5) })
        section.figure(chart, caption: "Norm of the gradient of the objective and of all parameters against mean-field time\(ReportSupport.scaleNote(scale)). A growing parameter norm with λ = 0 is expected; a gradient norm that explodes signals a step η beyond the stability bound.")
        return section
    }

    /// The spread of each layer's particles (attention heads, feed-forward units) against time.
    static func spread(_ run: RunRecord) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "spread", title: "Per-layer particle spread")
        for (key, title, what) in [("spread_attention", "Attention heads: spread per layer", "attention-head particles"),
                                   ("spread_ffn", "Feed-forward units: spread per layer", "feed-forward-unit particles")] {
            let layers = run.layerCount(key)
            guard layers > 0 else { continue }
            let series = (0..<layers).map { layer in
                let curve = run.layerSeries(key, layer: layer)
                return ChartSeries("layer \(layer)", x: curve.x, y: curve.y, style: curve.x.count <= 30 ? .lineWithMarkers : .line, markerRadius: 2.5)
            }
            section.figure(Chart(title: title, x: ChartAxis(timeAxis), y: ChartAxis("RMS distance of particles to their mean"), series: series),
                           caption: "Spread (root-mean-square distance to the layer's mean particle) of the \(what) of each layer. Spread that keeps growing means the particles are still moving apart; flat lines mean the measure has settled.")
        }
        return section
    }

    /// The confusion matrix of the final model on the test set, cells shaded by row share.
    static func confusionSection(_ confusion: ConfusionMatrix) -> HTMLPage.Section {
        var section = HTMLPage.Section(id: "confusion", title: "Confusion matrix (test set)")
        let counts = confusion.counts.map { $0.map(Double.init) }
        let rowTotals = counts.map { $0.reduce(0, +) }
        let rows = counts.enumerated().map { index, row in
            [confusion.classNames[index]] + row.map { MarkupText.number($0) }
                + [rowTotals[index] > 0 ? MarkupText.number(100 * row[index] / rowTotals[index], significantDigits: 3) + "%" : "—"]
        }
        let total = rowTotals.reduce(0, +)
        let correct = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        section.table(headers: ["true ↓ / predicted →"] + confusion.classNames + ["recall"], rows: rows,
                      caption: "Counts of test images by true class (rows) and predicted class (columns); accuracy \(MarkupText.number(total > 0 ? 100 * correct / total : .nan, significantDigits: 3))% of \(MarkupText.number(total)).",
                      numeric: Set(1...(confusion.classNames.count + 1)),
                      shade: { row, column in
                          guard column >= 1, column <= confusion.classNames.count, rowTotals[row] > 0 else { return nil }
                          return counts[row][column - 1] / rowTotals[row]
                      })
        return section
    }

    /// Layer `layer`'s head particles at several checkpoints, projected on the two principal
    /// components of the initial (earliest) checkpoint's heads.
    static func particles(_ run: RunRecord, layer: Int) -> HTMLPage.Section {
        let isResNet = run.config.model != .transformer
        let kind = isResNet ? "units" : "heads"
        var section = HTMLPage.Section(id: "particles", title: (isResNet ? "Unit" : "Head") + " particles of layer \(layer)")
        guard !run.checkpoints.isEmpty else { return section }
        let traced = ReportSupport.evenlySpaced(run.checkpoints.count, count: 12)
        var clouds: [HeadParticles] = []
        for index in traced {
            do { clouds.append(try HeadParticles.read(path: run.checkpoints[index].path, layer: layer)) } catch {
                section.paragraph("Could not read the head particles: \(error)")
                return section
            }
        }
        guard let initial = clouds.first, initial.particles.count >= 2 else {
            section.paragraph("Layer \(layer) has a single \(isResNet ? "unit" : "head"): there is no cloud to project.")
            return section
        }
        let pca = PrincipalComponents(points: initial.particles, count: 2)
        guard pca.components.count == 2 else {
            section.paragraph("The \(initial.particles.count) initial \(kind) of layer \(layer) span fewer than two directions: there is no plane to project on.")
            return section
        }
        let projected = clouds.map { cloud in cloud.particles.map(pca.project) }
        let shown = ReportSupport.evenlySpaced(clouds.count, count: 4)
        var series: [ChartSeries] = []
        // Each head's path through all traced checkpoints, faint.
        for head in initial.particles.indices where head < 64 {
            series.append(ChartSeries("", x: projected.map { $0[head][0] }, y: projected.map { $0[head][1] },
                                      colour: .reference, inLegend: false, lineWidth: 1, opacity: 0.35))
        }
        for (order, index) in shown.enumerated() {
            let cloud = clouds[index]
            let time = cloud.meanFieldTime.map { "t = \(MarkupText.number($0, significantDigits: 3))" } ?? "step \(cloud.step)"
            series.append(ChartSeries("\(time) (step \(cloud.step))", x: projected[index].map { $0[0] }, y: projected[index].map { $0[1] },
                                      style: .markers, colour: .palette(order), markerRadius: 4.5))
        }
        func share(_ component: Int) -> String {
            pca.totalVariance > 0 ? MarkupText.number(100 * pca.variances[component] / pca.totalVariance, significantDigits: 3) + "%" : "—"
        }
        let chart = Chart(title: "Layer \(layer) \(kind) on the initial principal components",
                          x: ChartAxis("PC 1 of initial \(kind) (\(share(0)) of variance)"),
                          y: ChartAxis("PC 2 of initial \(kind) (\(share(1)) of variance)"), series: series)
        let what = isResNet ? "residual-block units of layer \(layer) (its rows of the layer's tensors: (w, b, u), or θ for random features" : "attention heads of layer \(layer) (the concatenation of its rows of every attention matrix"
        section.figure(chart, caption: "Each marker is one of the \(initial.particles.count) \(what), \(initial.particles[0].count) numbers), projected on the first two principal components of the \(kind) at the earliest checkpoint (step \(initial.step)). Colours are checkpoints; grey lines trace each particle through \(clouds.count) checkpoints. In the mean-field limit the cloud moves as a whole along the Wasserstein gradient flow (theory §1.4).")
        return section
    }
}
