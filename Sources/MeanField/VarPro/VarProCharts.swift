import Foundation

/// The figures of a varpro run (E5, theory §3): distance to the teacher and risk over mean-field
/// time per λ (colour: width; solid: VarPro, dashed: two-timescale), the distance to the λ → 0 PDE
/// solution at the smallest λ, and the densities at the end (teacher, PDE, students' histograms).
public enum VarProCharts {
    /// Values at or below this are drawn at it (log axes cannot show 0).
    public static let floor = 1e-12

    /// All figures with their file names (without .svg).
    public static func all(_ results: VarProResults) -> [(String, Chart)] {
        var charts: [(String, Chart)] = []
        for lambda in results.config.lambdas {
            let tag = VarProReport.format(lambda)
            charts.append(("teacher-distance-lambda-\(tag)", teacherDistance(results, lambda: lambda)))
            charts.append(("risk-lambda-\(tag)", risk(results, lambda: lambda)))
        }
        if results.pde != nil {
            charts.append(("pde-distance", pdeDistance(results)))
            if results.runs.contains(where: { $0.pdeW2 != nil }) { charts.append(("pde-w2", pdeW2(results))) }
            charts.append(("densities", densities(results)))
        }
        return charts
    }

    static func widthColour(_ results: VarProResults, _ width: Int) -> ChartSeries.Colour {
        .palette(results.config.widths.firstIndex(of: width) ?? 0)
    }

    /// Solid: VarPro; dashed: two-timescale; markers: stochastic VarPro.
    static func style(_ series: VarProSeries) -> ChartSeries.Style { series.mode == .stochasticVarPro ? .lineWithMarkers : .line }

    static func clipped(_ values: [Double]) -> [Double] { values.map { $0.isFinite ? max($0, floor) : .nan } }

    /// `values` of every student at one λ against τ, on a log axis (students without values are left out).
    static func students(_ results: VarProResults, lambda: Double, title: String, y: String,
                         _ values: (VarProSeries) -> [Double]?) -> Chart {
        var chart = Chart(title: title, x: ChartAxis("mean-field time τ"), y: ChartAxis(y, scale: .log10))
        for series in results.runs where series.lambda == lambda {
            guard let values = values(series), !values.isEmpty else { continue }
            chart.series.append(ChartSeries(series.label, x: series.time, y: clipped(values), style: style(series),
                                            colour: widthColour(results, series.width), dashed: series.mode == .twoTimescale))
        }
        return chart
    }

    /// Energy distance to the teacher against τ for every width and mode at one λ.
    public static func teacherDistance(_ results: VarProResults, lambda: Double) -> Chart {
        var chart = students(results, lambda: lambda, title: "Energy distance to the teacher, λ = \(VarProReport.format(lambda)) (\(results.config.regulariser.rawValue))",
                             y: "energy distance (MMD², k = −|x − y|)") { $0.teacherEnergy }
        if let pde = results.pde {
            chart.series.append(ChartSeries("λ → 0 PDE (\(pde.cells) cells)", x: pde.time, y: clipped(pde.teacherEnergy), colour: .reference, dashed: true, lineWidth: 1.5))
        }
        return chart
    }

    /// Risk ½ mean (f − y)² against τ for every width and mode at one λ.
    public static func risk(_ results: VarProResults, lambda: Double) -> Chart {
        students(results, lambda: lambda, title: "Risk, λ = \(VarProReport.format(lambda)) (\(results.config.regulariser.rawValue))",
                 y: "½ mean (f − y)²") { $0.risk }
    }

    /// Energy distance of each student to the PDE solution at the same τ, at the smallest λ.
    public static func pdeDistance(_ results: VarProResults) -> Chart {
        let lambda = results.config.lambdas.min() ?? 0
        return students(results, lambda: lambda, title: "Energy distance to the λ → 0 PDE solution, λ = \(VarProReport.format(lambda))",
                        y: "energy distance to the PDE density") { $0.pdeEnergy }
    }

    /// Geodesic W₂ of each student to the PDE solution at the same τ, at the smallest λ.
    public static func pdeW2(_ results: VarProResults) -> Chart {
        let lambda = results.config.lambdas.min() ?? 0
        return students(results, lambda: lambda, title: "W₂ to the λ → 0 PDE solution, λ = \(VarProReport.format(lambda))",
                        y: "geodesic W₂ to the PDE density") { $0.pdeW2 }
    }

    /// Teacher density, initial and final PDE density, and a histogram of the final features of the
    /// VarPro students at the smallest λ (one per width), on [0, 2π).
    public static func densities(_ results: VarProResults) -> Chart {
        var chart = Chart(title: "Feature densities at τ = \(VarProReport.format(Double(results.config.steps) * results.config.timeStep))",
                          x: ChartAxis("angle θ"), y: ChartAxis("density"))
        guard let pde = results.pde else { return chart }
        let h = 2 * Double.pi / Double(pde.cells)
        let centres = (0..<pde.cells).map { (Double($0) + 0.5) * h }
        chart.series.append(ChartSeries("teacher f*", x: centres, y: pde.teacher, colour: .reference, lineWidth: 2.5))
        chart.series.append(ChartSeries("PDE at the end", x: centres, y: pde.final, colour: .palette(7), dashed: true))
        let lambda = results.config.lambdas.min() ?? 0
        let bins = 48
        let width = 2 * Double.pi / Double(bins)
        for series in results.runs where series.lambda == lambda && series.mode == .varpro {
            var counts = [Double](repeating: 0, count: bins)
            for angle in series.finalParameters { counts[min(bins - 1, max(0, Int(angle / width)))] += 1 }
            let total = Double(series.finalParameters.count)
            chart.series.append(ChartSeries("histogram, m = \(series.width) (VarPro)", x: (0..<bins).map { (Double($0) + 0.5) * width },
                                            y: counts.map { $0 / (total * width) }, style: .lineWithMarkers,
                                            colour: widthColour(results, series.width), lineWidth: 1, markerRadius: 2))
        }
        return chart
    }
}
