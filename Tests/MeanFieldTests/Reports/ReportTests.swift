// `meanfield report` (Sources/MeanField/Reports): pages for a synthetic run directory and a synthetic
// sweep directory written here (no training), their structure (sections, well-formed SVG, numbers
// on the axes), one-line errors, and — when chromium is installed — a real browser render to PNG
// that must not be blank.
import Foundation
import MeanField
import MeanFieldCore
import Testing

func scratchDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "meanfield-report-\(getpid())-\(name)"
    try? FileManager.default.removeItem(atPath: path)
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func write(_ text: String, to path: String) {
    try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// A regression run: 2 layers of 6 merged heads (D = 3), metrics every 10 steps, 3 checkpoints.
func writeSyntheticRun(at path: String, heads: Int = 6, lr: Double = 0.05, weightDecay: Double = 0, risk: (Double) -> Double = { 2 * exp(-3 * $0) }) {
    write("""
    {"task": "icl-regression", "heads": \(heads), "ffn-units": 4, "layers": 2, "token-dim": 3, "lr": \(lr), \
    "weight-decay": \(weightDecay), "seed": 7, "optimizer": "adamw", "steps": 100, "pre-norm": false}
    """, to: path + "/config.json")
    write("""
    {"command": ["meanfield", "train"], "seed": 7, "threads": 1, "scalarType": "f32", "meanfieldVersion": "0.1.0", \
    "swiftVersion": "6.3", "gitCommit": "abc123def", "gemmBackend": "swift", "cpu": "Test CPU", "operatingSystem": "Linux", \
    "startedAt": "2026-11-23T00:00:00Z"}
    """, to: path + "/manifest.json")
    var lines: [String] = []
    for step in stride(from: 0, through: 100, by: 10) {
        let t = Double(step) * lr
        let r = risk(t)
        lines.append("{\"step\":\(step),\"t\":\(t),\"lr\":\(lr),\"R\":\(r),\"Q\":\(r + weightDecay),\"eval_R\":\(r * 1.5 + 0.01),\"grad_norm\":\(exp(-t)),\"param_norm\":\(3 + t),\"spread_attention\":[\(1 + t),\(1 + 0.5 * t)],\"spread_ffn\":[\(0.8 + t),\(0.9)]}")
    }
    write(lines.joined(separator: "\n") + "\n", to: path + "/metrics.jsonl")
    write("{\"status\": \"completed\", \"steps\": 100, \"meanFieldTime\": \(100 * lr), \"finalTrainRisk\": \(risk(100 * lr))}", to: path + "/summary.json")
    for (index, step) in [0, 50, 100].enumerated() {
        var file = SafeTensorsFile(metadata: ["step": String(step), "t": String(Double(step) * lr)])
        for layer in 0..<2 {
            let shift = Float(index) * 0.3
            let keyQuery = (0..<(heads * 9)).map { Float(sin(Double($0) * 1.7 + Double(layer))) + shift * Float($0 % 3) }
            let outputValue = (0..<(heads * 9)).map { Float(cos(Double($0) * 0.9)) - shift }
            file.add(MeanFieldTransformer.keyQueryName(layer), Tensor<Float>(shape: [heads, 3, 3], scalars: keyQuery))
            file.add(MeanFieldTransformer.outputValueName(layer), Tensor<Float>(shape: [heads, 3, 3], scalars: outputValue))
            file.add(MeanFieldTransformer.ffnInName(layer), Tensor<Float>(shape: [4, 3], scalars: Array(repeating: 0.1, count: 12)))
        }
        try! FileManager.default.createDirectory(atPath: path + "/checkpoints", withIntermediateDirectories: true)
        try! file.write(to: path + String(format: "/checkpoints/step-%08d.safetensors", step))
    }
}

/// A sweep over M ∈ {2, 8, 32}, λ ∈ {0.001, 0.01, 0.1} and η ∈ {0.02, 0.05}, with summary.csv and diagnostics.json.
func writeSyntheticSweep(at path: String, diagnostics: Bool = true) {
    let heads = ["2", "8", "32"], decays = ["0.001", "0.01", "0.1"], rates = ["0.02", "0.05"]
    var runs: [String] = [], rows: [String] = ["name,heads,weight-decay,lr,status,steps,t,R,eval_R,Q,train_acc,test_acc,wall_seconds"]
    for m in heads { for decay in decays { for lr in rates {
        let name = "heads-\(m)_weight-decay-\(decay)_lr-\(lr)"
        let width = Double(m)!, lambda = Double(decay)!, rate = Double(lr)!
        // Final risk ∝ λ (slope 1), a little worse at small M and away from η = 0.05.
        let floor = lambda * (1 + 1 / width) * (rate == 0.05 ? 1 : 1.4)
        writeSyntheticRun(at: "\(path)/runs/\(name)", heads: Int(m)!, lr: rate, weightDecay: lambda, risk: { floor + 2 * exp(-8 * $0) })
        let finalR = floor + 2 * exp(-8 * 100 * rate)
        runs.append("{\"name\": \"\(name)\", \"flags\": {\"task\": \"icl-regression\", \"heads\": \"\(m)\", \"weight-decay\": \"\(decay)\", \"lr\": \"\(lr)\"}}")
        rows.append("\(name),\(m),\(decay),\(lr),completed,100,\(100 * rate),\(finalR),\(finalR * 1.5),\(finalR + 2 * lambda),,,1.5")
    } } }
    write("""
    {"grid": {"heads": ["2", "8", "32"], "weight-decay": ["0.001", "0.01", "0.1"], "lr": ["0.02", "0.05"]},
     "fixed": {"task": "icl-regression"},
     "runs": [\(runs.joined(separator: ",\n"))]}
    """, to: path + "/sweep.json")
    write(rows.joined(separator: "\n") + "\n", to: path + "/summary.csv")
    guard diagnostics else { return }
    var width: [String] = [], coordinates: [String] = [], depth: [String] = []
    for layers in [2.0, 4, 8] {
        let error = 0.5 / layers
        depth.append("{\"run\": \"M16-L\(Int(layers))\", \"reference\": \"M16-L32\", \"layers\": \(layers), \"reference_layers\": 32, \"heads\": 16, \"seed\": 0, \"initial_function_distance\": \(error * error * 4), \"function_distance\": \(error * error), \"risk_gap\": 0.01}")
    }
    for m in [4.0, 16, 64] { for layers in [2.0, 8] { for seed in 0..<2 {
        let rms = 0.8 / m.squareRoot() * (1 + 0.05 * Double(seed)) * (1 + 0.1 * log(layers))
        let distance = rms * rms   // the file holds the mean squared distance
        width.append("""
        {"run": "M\(Int(m))-L\(Int(layers))-s\(seed)", "heads": \(m), "layers": \(layers), "seed": \(seed), "weight_decay": 0, "lr": 0.05, \
        "function_distance": \(distance), "risk_gap": \(distance), "particle_sliced_w2": [\(rms), \(rms * 1.2)], "particle_sinkhorn": [\(distance), \(distance)], \
        "curve": {"t": [0, 1, 2, 3], "function_distance": [0, \(distance / 2), \(distance * 0.9), \(distance)], "risk_gap_t": [0, 1.5, 3], "risk_gap": [0, 0.002, \(distance)]}}
        """)
    } } }
    for m in [4.0, 16, 64] { for layer in 0..<2 { for step in [0.0, 10] {
        coordinates.append("{\"heads\": \(m), \"layers\": 2, \"step\": \(step), \"layer\": \(layer), \"activation_rms\": \(1 + 0.1 * Double(layer)), \"update_rms\": \(step == 0 ? 0 : 0.01 / (1 + Double(layer)))}")
    } } }
    write("""
    {"reference": "M256-L8-s0",
     "width": [\(width.joined(separator: ",\n"))],
     "fits": [{"quantity": "rms_function_distance", "against": "heads", "family": "layers=2 lr=0.05", "slope": -0.5, "confidence95": [-0.56, -0.44], "theory": -0.5, "points": 3, "seeds": 2},
              {"quantity": "final_Q", "against": "weight-decay", "family": "heads=8", "slope": 0.93, "confidence95": [0.8, 1.06], "theory": 1, "points": 3, "seeds": 1},
              {"quantity": "rms_depth_error", "against": "layers", "family": "heads=16", "slope": -0.9, "confidence95": [-1.2, -0.6], "theory": -1, "points": 3, "seeds": 1}],
     "depth": [\(depth.joined(separator: ",\n"))],
     "skipped": ["M4-L2-s9: no checkpoints"],
     "signatures": [{"name": "Distance growing in time", "run": "M4-L8-s0", "message": "the distance to the reference grows over t = 0…3", "knob": "raise M (the theory needs M / log L → ∞)"}],
     "coordinates": [\(coordinates.joined(separator: ",\n"))]}
    """, to: path + "/diagnostics.json")
}

/// The `<svg …>…</svg>` elements of a page.
func svgElements(_ html: String) -> [String] {
    var result: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        result.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return result
}

/// The texts of the tick labels of a page's charts.
private func tickLabels(_ html: String) -> [String] {
    var labels: [String] = []
    for group in ["x-ticks", "y-ticks"] {
        var rest = html[...]
        while let start = rest.range(of: "<g class=\"\(group)\""), let end = rest.range(of: "</g>", range: start.upperBound..<rest.endIndex) {
            let body = rest[start.upperBound..<end.lowerBound]
            var cursor = body[...]
            while let text = cursor.range(of: "<text"), let open = cursor.range(of: ">", range: text.upperBound..<cursor.endIndex),
                  let close = cursor.range(of: "</text>", range: open.upperBound..<cursor.endIndex) {
                labels.append(String(cursor[open.upperBound..<close.lowerBound]))
                cursor = cursor[close.upperBound...]
            }
            rest = rest[end.upperBound...]
        }
    }
    return labels
}

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
private let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { name -> String? in
    (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}.first

/// Renders `html` with scripts/render_report.sh (headless Chromium) and decodes the PNG.
private func render(_ html: String, size: String = "1280,1800") throws -> PNGImage {
    let png = html + ".png"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryRoot.appendingPathComponent("scripts/render_report.sh").path, html, png, size]
    let pipe = Pipe()
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let message = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw RunError("render_report.sh failed (\(process.terminationStatus)): \(message)") }
    return try PNGImage.read(path: png)
}

@Suite struct ReportTests {
    @Test func runReportHasEverySectionAndWellFormedCharts() throws {
        let run = scratchDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: run) }
        writeSyntheticRun(at: run)
        let result = try ReportBuilder.write(path: run)
        #expect(result.kind == .run && result.file == run + "/report.html")
        let html = try String(contentsOfFile: result.file, encoding: .utf8)
        for section in ["overview", "losses", "norms", "spread", "particles"] {
            #expect(html.contains("<section id=\"\(section)\">"), "section \(section)")
        }
        #expect(!html.contains("id=\"confusion\""))
        // Self-contained: no script, no external resource; the only URI is the SVG namespace.
        #expect(!html.contains("<script"))
        #expect(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").range(of: "http") == nil)
        #expect(!html.contains("src=") && !html.contains("<link"))
        #expect(html.contains("abc123def") && html.contains("6.3"))          // manifest: git commit, Swift version
        #expect(html.contains("mean-field time t (Σ η; Σ η/(1−μ) with momentum)"))
        let svgs = svgElements(html)
        #expect(svgs.count == 5)  // risk, norms, 2 × spread, particles (no schedule chart: η is constant)
        for svg in svgs { #expect(isWellFormedXML(svg)) }
        let labels = tickLabels(html)
        #expect(labels.contains("0") && labels.contains("5"))   // t runs 0 … 5
        #expect(labels.filter { Double($0) != nil || $0.contains("10") }.count > 10)
        #expect(html.contains(">layer 1</text>"))
        #expect(html.contains("PC 1 of initial heads"))
    }

    @Test func imageRunShowsAccuracyAndConfusionMatrix() throws {
        let run = scratchDirectory("image")
        defer { try? FileManager.default.removeItem(atPath: run) }
        write("{\"task\": \"fashion-mnist\", \"heads\": 4, \"layers\": 1}", to: run + "/config.json")
        let lines = (0...5).map { epoch in
            "{\"epoch\":\(epoch),\"step\":\(epoch * 10),\"t\":\(Double(epoch) * 0.1),\"train_loss\":\(2.3 / Double(epoch + 1)),\"test_loss\":\(2.3 / Double(epoch + 1) + 0.2),\"train_acc\":\(0.1 + 0.15 * Double(epoch)),\"test_acc\":\(0.1 + 0.12 * Double(epoch)),\"Q\":1,\"param_norm\":3,\"grad_norm\":1}"
        }
        write(lines.joined(separator: "\n"), to: run + "/metrics.jsonl")
        write("{\"classNames\": [\"cat\", \"dog <3\"], \"counts\": [[8, 2], [1, 9]]}", to: run + "/confusion.json")
        let html = try ReportBuilder.page(for: run).page.render()
        #expect(html.contains("<section id=\"confusion\">") && html.contains("dog &lt;3"))
        #expect(html.contains("accuracy 85% of 20"))
        #expect(html.contains("Classification accuracy") && html.contains(">epoch</text>"))
        #expect(!html.contains("id=\"particles\""))   // no checkpoints
    }

    @Test func sweepReportHasEverySectionAndFits() throws {
        let sweep = scratchDirectory("sweep")
        defer { try? FileManager.default.removeItem(atPath: sweep) }
        writeSyntheticSweep(at: sweep)
        let result = try ReportBuilder.write(path: sweep, output: sweep + "/out.html")
        #expect(result.kind == .sweep && result.warnings.isEmpty)
        let html = try String(contentsOfFile: sweep + "/out.html", encoding: .utf8)
        for section in ["signatures", "overview", "loss-curves", "weight-decay", "transfer", "width", "width-depth",
                        "distance-time", "depth", "coordinates", "fits", "runs"] {
            #expect(html.contains("<section id=\"\(section)\">"), "section \(section)")
        }
        for svg in svgElements(html) { #expect(isWellFormedXML(svg)) }
        #expect(html.contains("Distance growing in time") && html.contains("raise M"))
        #expect(html.contains(">−1/2 reference</text>"))
        #expect(html.contains(">L = 2: slope −0.5 (95% CI −0.56 … −0.44), n = 3 × 2 seeds</text>"))   // the file's fit for L = 2, with n
        #expect(html.contains(">L = 8: slope −0.5"))                                 // L = 8: LogLogFit over the points (RMS ∝ M^−1/2)
        #expect(html.contains(">M = 16: slope −0.9 (95% CI −1.2 … −0.6), n = 3</text>") && html.contains(">slope −1 reference</text>"))
        // Every fit has its verdict, by the one rule; the table names the family and n.
        #expect(html.contains("L = 2: consistent with the theory&#39;s −0.5 (slope −0.5, 95% CI [−0.56, −0.44], n = 3 × 2 seeds) (diagnostics.json)"))
        #expect(html.contains("<td>L = 2, η = 0.05</td>") && html.contains("<td>3 × 2 seeds</td>") && html.contains("<td>consistent</td>"))
        #expect(html.contains("M4-L2-s9: no checkpoints"))
        #expect(html.contains(">M = 2</text>") && html.contains(">M = 32</text>"))
        // Q vs λ: the synthetic final risk is ∝ λ, so the LogLogFit slopes are close to 1.
        #expect(html.contains("weight decay λ"))
        let fitted = html.components(separatedBy: ": slope ").dropFirst().compactMap { Double($0.prefix { "0123456789.".contains($0) }) }
        #expect(fitted.count >= 6 && fitted.contains { abs($0 - 1) < 0.05 })
        // λ fits per family (M × η), never pooled over η.
        #expect(html.contains(">M = 2, η = 0.02: slope ") && html.contains(">M = 32, η = 0.05: slope "))
        #expect(html.contains("M = 8, η = 0.02: consistent with the theory&#39;s 1"))
        #expect(html.contains("Held at λ = 0.001"))
        #expect(html.contains("Best η: M = 2: η = 0.05"))
        #expect(tickLabels(html).contains("0.001"))
    }

    @Test func sweepWithoutDiagnosticsOrSummaryStillReports() throws {
        let sweep = scratchDirectory("plain-sweep")
        defer { try? FileManager.default.removeItem(atPath: sweep) }
        writeSyntheticSweep(at: sweep, diagnostics: false)
        try FileManager.default.removeItem(atPath: sweep + "/summary.csv")
        try FileManager.default.removeItem(atPath: sweep + "/runs/heads-2_weight-decay-0.001_lr-0.02")
        let report = try ReportBuilder.page(for: sweep)
        let html = report.page.render()
        #expect(report.warnings.count == 1 && report.warnings[0].contains("heads-2_weight-decay-0.001_lr-0.02"))
        #expect(html.contains("<section id=\"loss-curves\">") && html.contains("<section id=\"weight-decay\">"))
        #expect(!html.contains("id=\"width\"") && !html.contains("id=\"signatures\""))
        for svg in svgElements(html) { #expect(isWellFormedXML(svg)) }
    }

    @Test func oneLineErrorsNameTheProblem() throws {
        let empty = scratchDirectory("neither")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: RunError.self) { try ReportBuilder.page(for: empty) }
        do { _ = try ReportBuilder.page(for: empty) } catch {
            #expect("\(error)".contains("neither a run directory") && !"\(error)".contains("\n"))
        }
        let run = scratchDirectory("corrupt")
        defer { try? FileManager.default.removeItem(atPath: run) }
        write("{\"step\":0,\"t\":0,\"R\":1}\n{\"step\":10,\"t\":0.1,\"R\":0.5}\n{\"step\":20,\"t\":0.2,\"R\n", to: run + "/metrics.jsonl")
        do {
            _ = try ReportBuilder.page(for: run)
            Issue.record("a corrupt metrics line was accepted")
        } catch {
            #expect("\(error)".contains(run + "/metrics.jsonl:3:"), "\(error)")
        }
        do {
            _ = try ReportBuilder.page(for: run + "/missing")
            Issue.record("a missing directory was accepted")
        } catch {
            #expect("\(error)".contains("no such directory"))
        }
    }

    @Test(.enabled(if: chromium != nil, "skipped: chromium is not on PATH (apt-get install -y chromium; CI installs it), so the reports were not rendered in a browser"))
    func reportsRenderInHeadlessChromiumAndAreNotBlank() throws {
        let run = scratchDirectory("render-run"), sweep = scratchDirectory("render-sweep")
        let blankDirectory = scratchDirectory("render-blank")
        defer { for directory in [run, sweep, blankDirectory] { try? FileManager.default.removeItem(atPath: directory) } }
        writeSyntheticRun(at: run)
        writeSyntheticSweep(at: sweep)
        for directory in [run, sweep] {
            let file = try ReportBuilder.write(path: directory).file
            let image = try render(file)
            #expect(image.width == 1280 && image.height == 1800)
            let inked = image.nonBackgroundFraction, colours = image.distinctColourCount
            print("rendered \(file): \(MarkupText.number(100 * inked, significantDigits: 3))% non-background pixels, \(colours) colours")
            #expect(inked > 0.01, "the page rendered blank")
            #expect(colours >= 8, "the page has too few colours for charts (\(colours))")
        }
        // The check can tell: a blank page fails it.
        let blank = blankDirectory + "/blank.html"
        write("<!DOCTYPE html><html><body></body></html>", to: blank)
        let image = try render(blank, size: "400,300")
        #expect(image.nonBackgroundFraction < 0.01)
    }

    @Test func chromiumAvailabilityIsReported() {
        if chromium == nil {
            print("ReportTests: chromium not found on PATH — the browser render test is SKIPPED (apt-get install -y chromium)")
        }
    }
}
