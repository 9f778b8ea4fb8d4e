import Foundation

/// One set of points on a chart: a curve, a scatter, or a reference line.
public struct ChartSeries: Sendable {
    /// How the points are drawn.
    public enum Style: Sendable {
        /// Segments between consecutive drawable points (a NaN or a non-positive value on a log
        /// axis breaks the line).
        case line
        /// A line with a marker on every point.
        case lineWithMarkers
        /// Markers only (a scatter plot).
        case markers
        /// Crosses along the top edge of the plot at each x, whatever y is: points off the scale
        /// (diverged runs). Their y never sets the axis range.
        case edgeMarkers
    }

    /// Where the colour comes from.
    public enum Colour: Sendable, Equatable {
        /// The next unused palette entry.
        case automatic
        /// A fixed palette entry: series sharing an index share colour and marker (e.g. seeds of one M).
        case palette(Int)
        /// Grey (reference lines).
        case reference
    }

    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Optional error bars: the lower and upper y of each point (NaN = none for that point).
    public var errorLow: [Double]?
    public var errorHigh: [Double]?
    public var style: Style
    public var colour: Colour
    public var dashed: Bool
    /// An SVG dash pattern ("7 4") that overrides `dashed`'s: how series that share a colour (the
    /// seeds of one setting) are told apart.
    public var dashPattern: String?
    /// Whether the legend lists this series (false for, e.g., the 2nd…nth seed of a group).
    public var inLegend: Bool
    /// Line width in pixels.
    public var lineWidth: Double
    /// Marker half-size in pixels.
    public var markerRadius: Double
    /// Opacity of the line and markers, 0…1.
    public var opacity: Double
    /// Whether the series' points set the axis ranges (false for a diverged run's curve: drawn,
    /// clipped to the plot, but not stretching the axes).
    public var affectsRange: Bool
    /// The series' name in the plotted-data CSV (``Chart/dataCSV``) when the legend's `name` is
    /// shared with other curves (the seeds of one setting): one name per curve there.
    public var dataName: String?

    public init(_ name: String, x: [Double], y: [Double], style: Style = .line, colour: Colour = .automatic,
                dashed: Bool = false, inLegend: Bool = true, errorLow: [Double]? = nil, errorHigh: [Double]? = nil,
                lineWidth: Double = 2, markerRadius: Double = 3.5, opacity: Double = 1, affectsRange: Bool = true,
                dashPattern: String? = nil, dataName: String? = nil) {
        self.name = name
        self.dashPattern = dashPattern
        self.dataName = dataName
        let count = min(x.count, y.count)
        self.x = Array(x.prefix(count))
        self.y = Array(y.prefix(count))
        self.style = style
        self.colour = colour
        self.dashed = dashed
        self.inLegend = inLegend
        self.errorLow = errorLow.map { Array($0.prefix(count)) }
        self.errorHigh = errorHigh.map { Array($0.prefix(count)) }
        self.lineWidth = lineWidth
        self.markerRadius = markerRadius
        self.opacity = opacity
        self.affectsRange = affectsRange
    }

    /// The power law y = C·x^slope through the point (x₀, y₀), drawn dashed and grey across
    /// `xRange`: the theory's reference slope on a log-log chart (e.g. "−1/2 reference").
    public static func referenceSlope(_ name: String, slope: Double, through point: (x: Double, y: Double),
                                      xRange: ClosedRange<Double>) -> ChartSeries {
        let xs = [xRange.lowerBound, xRange.upperBound]
        let ys = xs.map { point.y * pow($0 / point.x, slope) }
        return ChartSeries(name, x: xs, y: ys, style: .line, colour: .reference, dashed: true, lineWidth: 1.5)
    }

    /// A fitted power law y = exp(intercept)·x^slope (natural-log intercept, as ``LogLogFit`` gives),
    /// drawn as a thin solid line across `xRange` in the colour of palette entry `colourIndex`.
    public static func fittedPowerLaw(_ name: String, slope: Double, logIntercept: Double,
                                      xRange: ClosedRange<Double>, colour: Colour = .reference) -> ChartSeries {
        let xs = (0...24).map { xRange.lowerBound * pow(xRange.upperBound / xRange.lowerBound, Double($0) / 24) }
        let ys = xs.map { exp(logIntercept) * pow($0, slope) }
        return ChartSeries(name, x: xs, y: ys, style: .line, colour: colour, lineWidth: 1.5)
    }
}

/// A line or scatter chart, drawn as a self-contained SVG element (see ``svg(id:)``): title, axes
/// with nice ticks and titles, grid lines, series in palette colours with markers, error bars,
/// reference lines, and a legend below the plot. Readable at a glance at its default 640 × 400.
public struct Chart: Sendable {
    public var title: String
    public var xAxis: ChartAxis
    public var yAxis: ChartAxis
    public var series: [ChartSeries]
    /// Total size in pixels (the legend takes its rows from the plot area).
    public var width: Double
    public var height: Double
    /// Text shown in the plot area when no series has a drawable point.
    public var emptyMessage: String

    public init(title: String, x: ChartAxis, y: ChartAxis, series: [ChartSeries] = [],
                width: Double = 640, height: Double = 400, emptyMessage: String = "no data") {
        self.title = title
        self.xAxis = x
        self.yAxis = y
        self.series = series
        self.width = width
        self.height = height
        self.emptyMessage = emptyMessage
    }

    /// Whether any series has a point that can be drawn on these axes.
    public var hasDrawablePoints: Bool {
        series.contains { series in
            series.style == .edgeMarkers ? series.x.contains(where: xAxis.scale.accepts)
                : zip(series.x, series.y).contains { xAxis.scale.accepts($0) && yAxis.scale.accepts($1) }
        }
    }
}
