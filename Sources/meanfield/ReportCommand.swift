import ArgumentParser
import Foundation
import MeanField

/// `meanfield report DIR`: one self-contained HTML page (inline SVG plots, no scripts) for a run
/// directory or a sweep directory.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML report with SVG plots for a run or a sweep directory.",
        discussion: """
        A run directory (meanfield train --out) gives: configuration and provenance, risk or loss and \
        accuracy curves, gradient and parameter norms, per-layer spread, the confusion matrix (image \
        runs) and one layer's head particles on their initial principal components. A sweep directory \
        (meanfield sweep --out) gives: the grid, loss curves per width M on one mean-field time axis, \
        final R and Q vs weight decay with fitted slopes, final loss vs learning rate per M and L, and, \
        when diagnostics.json is present, distance vs M with the fitted slope and the −1/2 reference, \
        distance vs M / log L, the coordinate check and the failure signatures.
        The page is self-contained (open it offline, mail it); render it to PNG with \
        scripts/render_report.sh FILE.html OUT.png.
        --figures OUT writes each figure on its own for a paper: SVG, PNG (2×) and PDF (with rsvg-convert, \
        Debian librsvg2-bin; PNG through Chromium without it) and the plotted points as CSV, indexed in \
        OUT/figures.csv (titles, axis titles and scales, captions).
        Examples:
          meanfield report runs/small
          meanfield report sweeps/e2 --out e2.html
          meanfield report sweeps/e2 --figures e2-figures
        """)

    @Argument(help: "Run or sweep directory.")
    var directory: String

    @Option(help: "Output HTML file (default DIR/report.html).")
    var out: String?

    @Option(help: "Also write each figure on its own into this folder: SVG, PNG, PDF and its data as CSV (see docs/reports.md).")
    var figures: String?

    @Option(help: "Layer whose attention heads are projected on principal components (run reports; default 0).")
    var layer: Int = 0

    func validate() throws {
        // A layer index: at most the largest --layers.
        let bound = TrainBound.size
        guard layer >= 0, layer < bound.value else { throw ValidationError("--layer must be in 0...\(bound.value - 1) (\(bound.reason)), got \(layer)") }
    }

    func run() throws {
        let result = try ReportBuilder.write(path: directory, output: out, particleLayer: layer, figures: figures)
        for warning in result.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        print("\(result.kind.rawValue) report: \(result.file)")
        if let exported = result.figures, let folder = figures {
            print("figures: \(exported.stems.count) in \(folder) (\(exported.formats.joined(separator: ", ")) each); index \(folder)/\(FigureExport.indexFile)")
        }
    }
}
