// Figures for papers (Sources/MeanField/Reports/FigureExport.swift, Charts/ChartData.swift): every
// chart the report tests draw keeps its text inside the canvas (by the SVG's geometry,
// Support/SVGTextExtents.swift); `--figures` writes SVG, CSV (the plotted points, checked against
// the metrics they came from), PNG and PDF; seeds of one setting are told apart.
import Foundation
@testable import MeanField
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/legacy-run-format").path

/// The report pages the tests draw: the synthetic run and sweep of ReportTests (with and without
/// diagnostics) and every legacy fixture folder (regression, image, ResNet, diverged runs, a sweep).
private func reportPages() throws -> [(name: String, page: HTMLPage)] {
    let run = scratchDirectory("figures-run"), sweep = scratchDirectory("figures-sweep"), bare = scratchDirectory("figures-bare-sweep")
    writeSyntheticRun(at: run)
    writeSyntheticSweep(at: sweep)
    writeSyntheticSweep(at: bare, diagnostics: false)
    let folders = [run, sweep, bare] + ["icl-regression", "image", "resnet", "diverged-inf", "diverged-nan", "sweep"].map { fixtures + "/" + $0 }
    return try folders.map { ($0, try ReportBuilder.page(for: $0).page) }
}

/// A chart built to crowd its edges: long titles, a long legend, tiny and huge values on log axes.
private func crowdedChart() -> Chart {
    let series = (0..<14).map { index in
        ChartSeries("M = \(1 << index), seed \(index % 3), η = 0.0\(index + 1)", x: [1e-4, 1, 1e4], y: [1e-9 * Double(index + 1), 1, 1e9])
    }
    return Chart(title: "Sliced Wasserstein-2 distance between head particles of coupled runs against the width M of each family",
                 x: ChartAxis("mean-field time t = Σ η (Σ η/(1−μ) with momentum SGD), log scale, in units of the learning rate", scale: .log10),
                 y: ChartAxis("RMS function-space distance √E|F_M − F_ref|² on the evaluation set (log scale)", scale: .log10),
                 series: series)
}

struct FigureTests {
    @Test func theGeometryCheckFindsTextOutsideTheCanvas() {
        let svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100" font-size="12">
        <text x="100" y="20" text-anchor="middle">fits</text>
        <g text-anchor="end" font-size="11"><text x="10" y="50">a long tick label</text></g>
        <text transform="translate(18 50) rotate(-90)" text-anchor="middle">a y-axis title far longer than the chart is high</text>
        <text x="150" y="95">legend entry</text>
        </svg>
        """
        let outside = SVGTextExtents.outside(svg).map(\.text)
        #expect(outside == ["a long tick label", "a y-axis title far longer than the chart is high", "legend entry"], "\(outside)")
        // "fits": 4 characters of 12 px centred at 100 lie within 200 px.
        let fits = SVGTextExtents.boxes(svg)[0]
        #expect(fits.minX > 80 && fits.maxX < 120 && fits.minY > 0)
    }

    @Test func noTextOfAnyReportChartLiesOutsideItsCanvas() throws {
        var checked = 0
        for (name, page) in try reportPages() {
            for figure in page.figures {
                let svg = figure.chart.svg(id: "fig-\(figure.number)")
                checked += 1
                let outside = SVGTextExtents.outside(svg)
                #expect(outside.isEmpty, "\(name) figure \(figure.number) '\(figure.chart.title)': \(outside)")
            }
        }
        #expect(checked >= 30, "only \(checked) charts were checked")
        let crowded = crowdedChart().svg(id: "crowded")
        #expect(SVGTextExtents.outside(crowded).isEmpty, "\(SVGTextExtents.outside(crowded))")
    }

    @Test func figuresAreWrittenAsSVGCSVAndImagesWithAnIndex() throws {
        let sweep = scratchDirectory("figures-export"), out = sweep + "/figures"
        writeSyntheticSweep(at: sweep)
        let page = try ReportBuilder.page(for: sweep).page
        let result = try FigureExport.write(page, to: out)
        #expect(result.stems.count == page.figures.count && !result.stems.isEmpty)
        let index = CSVTable.parse(try String(contentsOfFile: out + "/" + FigureExport.indexFile, encoding: .utf8))
        #expect(index.header == FigureExport.indexColumns && index.rows.count == page.figures.count)
        for (stem, figure) in zip(result.stems, page.figures) {
            let svg = try String(contentsOfFile: stem + ".svg", encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>\n"))
            // One CSV row per plotted point.
            let data = CSVTable.parse(try String(contentsOfFile: stem + ".csv", encoding: .utf8))
            #expect(data.header == Chart.dataColumns)
            #expect(data.rows.count == figure.chart.series.reduce(0) { $0 + $1.x.count }, "\(stem)")
        }
        // The loss curve of M = 2 at λ = 0.001, η = 0.05 is the run's metrics: R(t) = λ(1 + 1/M) + 2 e^(−8t), t = 0.05 · step.
        let loss = try #require(zip(result.stems, page.figures).first { $0.1.chart.title.contains("λ = 0.001") && $0.1.chart.title.contains("η = 0.05") })
        let rows = CSVTable.parse(try String(contentsOfFile: loss.0 + ".csv", encoding: .utf8)).records.filter { $0["series"] == "M = 2" }
        #expect(rows.count == 11)
        for row in rows {
            let t = Double(row["x"]!)!, r = Double(row["y"]!)!
            #expect(abs(r - (0.001 * 1.5 + 2 * exp(-8 * t))) < 1e-12 * max(1, r), "t = \(t): \(r)")
        }
        if FigureExport.executable(named: "rsvg-convert") != nil {
            #expect(result.formats == ["svg", "csv", "png", "pdf"])
            let first = result.stems[0]
            let size = FigureExport.size(of: try String(contentsOfFile: first + ".svg", encoding: .utf8))
            let image = try PNGImage.read(path: first + ".png")
            #expect(image.width == 2 * size.width && image.height == 2 * size.height, "\(image.width)×\(image.height) for \(size)")
            #expect(image.nonBackgroundFraction > 0.01 && image.distinctColourCount >= 8)
            let pdf = try Data(contentsOf: URL(fileURLWithPath: first + ".pdf"))
            #expect(pdf.starts(with: Data("%PDF-".utf8)) && pdf.count > 1000)
        } else {
            print("FigureTests: rsvg-convert not found — PNG/PDF export not checked (apt-get install librsvg2-bin)")
        }
    }
}

struct SeedStyleTests {
    @Test func seedsOfOneWidthShareTheColourAndDifferInDash() throws {
        let sweep = scratchDirectory("figures-seeds")
        var runs: [String] = []
        for m in ["2", "8"] { for seed in ["0", "1", "2"] {
            let name = "heads-\(m)_seed-\(seed)"
            writeSyntheticRun(at: "\(sweep)/runs/\(name)", heads: Int(m)!, risk: { 0.1 * Double(seed)! + 2 * exp(-3 * $0) })
            runs.append("{\"name\": \"\(name)\", \"flags\": {\"heads\": \"\(m)\", \"seed\": \"\(seed)\"}}")
        } }
        try Data("{\"grid\": {\"heads\": [\"2\", \"8\"], \"seed\": [\"0\", \"1\", \"2\"]}, \"fixed\": {}, \"runs\": [\(runs.joined(separator: ", "))]}".utf8)
            .write(to: URL(fileURLWithPath: sweep + "/sweep.json"))
        let page = try ReportBuilder.page(for: sweep).page
        let figure = try #require(page.figures.first { $0.chart.title.contains("vs mean-field time") })
        let curves = figure.chart.series.filter { !$0.x.isEmpty }
        #expect(curves.count == 6)
        // Six runs, six looks: a colour per M, a dash per seed.
        let looks = Set(curves.map { "\($0.colour) \($0.dashPattern ?? "solid")" })
        #expect(looks.count == 6, "\(looks)")
        #expect(Set(curves.map { $0.dashPattern ?? "solid" }).count == 3)
        // The legend keys the dashes, and the caption says so.
        let keys = figure.chart.series.filter { $0.x.isEmpty && $0.inLegend }.map(\.name)
        #expect(keys == ["seed 0", "seed 1", "seed 2"])
        #expect(figure.caption.contains("told apart by the dash"))
        let svg = figure.chart.svg(id: "seeds")
        for pattern in ["7 4", "2 3"] { #expect(svg.contains("stroke-dasharray=\"\(pattern)\"")) }
        #expect(SVGTextExtents.outside(svg).isEmpty)
    }
}

private let chromiumPath = FigureExport.executable(named: "chromium") ?? FigureExport.executable(named: "chromium-browser")

@Suite(.enabled(if: chromiumPath != nil, "skipped: chromium is not on PATH (apt-get install -y chromium), so no page was rendered"))
struct WholePageRenderTests {
    @Test func theRenderScriptCapturesTheWholePageHeight() throws {
        let sweep = scratchDirectory("figures-whole-page")
        writeSyntheticSweep(at: sweep)
        let html = try ReportBuilder.write(path: sweep).file
        let png = sweep + "/page.png"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/render_report.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, html, png, "1280"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let image = try PNGImage.read(path: png)
        // Far taller than any fixed window (the page holds dozens of charts), and the footer, the
        // page's last line, is in the picture: grey text (#888) in the bottom 40 rows, and below it
        // the page's own background (#fafafa, the footer's 20 px padding), not a cut section (#fff).
        #expect(image.width == 1280 && image.height > 4000, "\(image.width)×\(image.height)")
        func colour(_ row: Int, _ column: Int) -> (Int, Int, Int) {
            let index = 3 * (row * image.width + column)
            return (Int(image.rgb[index]), Int(image.rgb[index + 1]), Int(image.rgb[index + 2]))
        }
        var inked = 0
        for row in (image.height - 40)..<image.height { for column in 0..<image.width where colour(row, column).0 < 0xC0 { inked += 1 } }
        #expect(inked > 50, "no footer text at the bottom of the render: the page was cut")
        let bottom = (image.height - 6)..<image.height
        #expect(bottom.allSatisfy { row in (0..<image.width).allSatisfy { colour(row, $0) == (0xFA, 0xFA, 0xFA) } })
        print("WholePageRenderTests: \(image.width)×\(image.height), \(inked) footer pixels")
    }
}
