import Foundation

/// The two figures of an ntk-check run (E6): the normalised singular-value spectrum per family and
/// the certificate σ_min/σ_max per family with the tolerance line.
public enum NTKCheckCharts {
    /// Certificates below this are drawn at it (a log axis cannot show 0).
    public static let floor = 1e-18

    /// σ_i/σ_1 against i for the log-sum-exp matrix of each family.
    public static func spectrum(_ results: NTKCheckResults, variant: String = "log-sum-exp") -> Chart {
        var chart = Chart(title: "Singular values of the \(variant) matrix", x: ChartAxis("index i"), y: ChartAxis("σ_i / σ_1", scale: .log10))
        for (index, result) in results.families.enumerated() {
            // A family with nothing left after the projection (Diracs) has only rounding noise to normalise: skipped.
            guard let spectrum = result.spectra.first(where: { $0.variant == variant }), let top = spectrum.singularValues.first,
                  top > results.config.options.tolerance else { continue }
            let values = spectrum.singularValues.map { max($0 / top, floor) }
            chart.series.append(ChartSeries(result.family.rawValue, x: values.indices.map { Double($0 + 1) }, y: values, colour: .palette(index)))
        }
        return chart
    }

    /// The certificate per family (x = family number, as in the legend), both variants, and the tolerance.
    public static func certificates(_ results: NTKCheckResults) -> Chart {
        var chart = Chart(title: "Certificate σ_min/σ_max per family (K = \(results.config.sets), d = \(results.config.dimension))",
                          x: ChartAxis("family number"), y: ChartAxis("certificate (filled: log-sum-exp, open: Hessian)", scale: .log10))
        for (index, result) in results.families.enumerated() {
            let x = Double(index + 1)
            for spectrum in result.spectra {
                let hessian = spectrum.variant == "hessian"
                chart.series.append(ChartSeries("\(index + 1) \(result.family.rawValue)\(hessian ? " (Hessian)" : "")",
                                                x: [hessian ? x + 0.2 : x], y: [max(spectrum.certificate, floor)], style: .markers,
                                                colour: .palette(index), inLegend: !hessian, markerRadius: hessian ? 4 : 5.5,
                                                opacity: hessian ? 0.6 : 1))
            }
        }
        let tolerance = results.config.options.tolerance
        let count = Double(max(results.families.count, 1))
        chart.series.append(ChartSeries("tolerance \(InjectivityCheck.format(tolerance))", x: [0.5, count + 0.7], y: [tolerance, tolerance],
                                        colour: .reference, dashed: true, lineWidth: 1.5))
        return chart
    }
}
