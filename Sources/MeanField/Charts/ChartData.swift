import Foundation

/// The plotted data of a ``Chart`` as CSV, so that a figure can be redrawn elsewhere (matplotlib,
/// pgfplots) from exactly the points the SVG shows. Long format, one row per point:
///
/// `series,style,x,y,y_low,y_high`
///
/// - `series`: the legend label (`series N` for an unlabelled one), one per curve: the seeds of a
///   setting, which share its label and colour in the legend, are `<label>, seed s` here;
/// - `style`: `line`, `line+markers`, `markers`, `reference` (a grey theory line) or `off-scale`
///   (a point past the top edge: a diverged run, y is `nan`);
/// - `x`, `y`: the values in data units (not pixels), Swift's shortest round-trip form; `nan`,
///   `inf`, `-inf` for non-finite values (pandas and NumPy read them as floats);
/// - `y_low`, `y_high`: the error bar's ends, empty without one.
///
/// The axis titles and scales are in the figure index (``FigureExport``).
extension Chart {
    /// The CSV header.
    public static let dataColumns = ["series", "style", "x", "y", "y_low", "y_high"]

    /// The chart's points as CSV text (header first, `\n` line ends).
    public var dataCSV: String {
        var rows = [Self.dataColumns]
        for (index, item) in series.enumerated() {
            let name = item.dataName ?? (item.name.isEmpty ? "series \(index + 1)" : item.name)
            let style: String
            switch item.style {
            case _ where item.colour == .reference: style = "reference"
            case .line: style = "line"
            case .lineWithMarkers: style = "line+markers"
            case .markers: style = "markers"
            case .edgeMarkers: style = "off-scale"
            }
            for point in item.x.indices {
                let low = item.errorLow.map { "\($0[point])" } ?? "", high = item.errorHigh.map { "\($0[point])" } ?? ""
                rows.append([name, style, "\(item.x[point])", "\(item.y[point])", low == "nan" ? "" : low, high == "nan" ? "" : high])
            }
        }
        return CSVTable.text(rows)
    }
}
