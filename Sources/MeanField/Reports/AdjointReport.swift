import Foundation

/// The `meanfield report` page of an adjoint-check run (a folder with adjoint.jsonl): the per-layer
/// discrepancy between adjoint and autodiff gradients and the trajectories ‖X(s)‖, ‖P(s)‖ over
/// depth s = ℓ/L (theory §2).
public enum AdjointReport {
    /// Whether `path` holds an adjoint-check run.
    public static func isAdjointCheck(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/adjoint.jsonl")
    }

    /// One line of adjoint.jsonl.
    struct Layer { var layer: Int, s: Double, difference: Double, stateNorm: Double, adjointNorm: Double }

    /// Reads `path`/adjoint.jsonl (one-line error if unreadable) and builds the page.
    public static func page(path: String) throws -> HTMLPage {
        let file = path + "/adjoint.jsonl"
        guard let data = FileManager.default.contents(atPath: file) else { throw RunError("\(file): cannot read the file; rerun meanfield adjoint-check --out \(path)") }
        var layers: [Layer] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = (try? JSONValue.parse(String(line)))?.object,
                  let layer = object["layer"]?.number, let s = object["s"]?.number, let difference = object["max_rel_diff"]?.number,
                  let stateNorm = object["X_norm"]?.number, let adjointNorm = object["P_norm"]?.number else {
                throw RunError("\(file): a line is not an adjoint-check record; rerun meanfield adjoint-check --out \(path)")
            }
            layers.append(Layer(layer: Int(layer), s: s, difference: difference, stateNorm: stateNorm, adjointNorm: adjointNorm))
        }
        var page = HTMLPage(title: "Adjoint check: \(URL(fileURLWithPath: path).lastPathComponent)",
                            subtitle: "gradients by the backward recursion P_ℓ = (∂Φ_ℓ/∂X)ᵀ P_{ℓ+1} against whole-depth autodiff (theory §2)")
        var section = HTMLPage.Section(id: "adjoint", title: "Per layer")
        section.table(headers: ["layer", "s = ℓ/L", "max relative difference", "‖X(s)‖", "‖P(s)‖"],
                      rows: layers.map { ["\($0.layer)", String(format: "%.3f", $0.s), String(format: "%.3e", $0.difference),
                                          String(format: "%.6g", $0.stateNorm), String(format: "%.6g", $0.adjointNorm)] },
                      numeric: [0, 1, 2, 3, 4])
        let s = layers.map(\.s)
        section.figure(Chart(title: "Adjoint trajectory", x: ChartAxis("depth s"), y: ChartAxis("‖P(s)‖"),
                             series: [ChartSeries("‖P(s)‖ = ‖∂loss/∂X(s)‖", x: s, y: layers.map(\.adjointNorm), style: .lineWithMarkers)]),
                       caption: "Norm of the adjoint P(s) over depth (the last point is P(1) = ∂loss/∂X(1)).")
        section.figure(Chart(title: "Forward trajectory", x: ChartAxis("depth s"), y: ChartAxis("‖X(s)‖"),
                             series: [ChartSeries("‖X(s)‖", x: s, y: layers.map(\.stateNorm), style: .lineWithMarkers)]),
                       caption: "Norm of the token matrix X(s) over depth.")
        page.add(section)
        return page
    }
}
