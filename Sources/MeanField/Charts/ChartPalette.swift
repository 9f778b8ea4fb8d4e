/// Series colours and marker shapes. The colours are the Okabe–Ito palette (distinguishable with
/// the common colour-vision deficiencies) extended with a few darker tones; marker shapes cycle
/// too, so series stay apart in grey print.
public enum ChartPalette {
    public static let colours = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
        "#000000", "#8C564B", "#7F3C8D", "#3969AC", "#F0C000", "#11A579",
    ]
    /// The colour of reference lines (theory slopes): grey, drawn dashed.
    public static let reference = "#6E6E6E"

    /// The colour of palette entry `index` (wrapping around).
    public static func colour(_ index: Int) -> String { colours[((index % colours.count) + colours.count) % colours.count] }

    /// The marker shape of palette entry `index`.
    public static func marker(_ index: Int) -> MarkerShape {
        MarkerShape.allCases[((index % MarkerShape.allCases.count) + MarkerShape.allCases.count) % MarkerShape.allCases.count]
    }
}

/// Point markers.
public enum MarkerShape: CaseIterable, Sendable {
    case circle, square, triangle, diamond

    /// SVG for a marker centred at (x, y) with half-size `radius`.
    func svg(x: Double, y: Double, radius: Double, fill: String, stroke: String) -> String {
        let c = MarkupText.coordinate
        switch self {
        case .circle:
            return "<circle cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"\(c(radius))\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
        case .square:
            let side = radius * 1.75
            return "<rect x=\"\(c(x - side / 2))\" y=\"\(c(y - side / 2))\" width=\"\(c(side))\" height=\"\(c(side))\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
        case .triangle:
            let r = radius * 1.25
            return "<path d=\"M\(c(x)) \(c(y - r))L\(c(x + r)) \(c(y + r * 0.8))L\(c(x - r)) \(c(y + r * 0.8))Z\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
        case .diamond:
            let r = radius * 1.3
            return "<path d=\"M\(c(x)) \(c(y - r))L\(c(x + r)) \(c(y))L\(c(x)) \(c(y + r))L\(c(x - r)) \(c(y))Z\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
        }
    }
}
