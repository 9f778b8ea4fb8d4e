// The SVG chart library (Sources/MeanField/Charts): tick values and labels, value → pixel mapping on
// linear and log axes against hand-computed numbers, escaping, NaN/empty series, and that every
// chart is well-formed XML.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import MeanField
import Testing

/// Whether `text` parses as XML (the SVG must be well-formed to display inside HTML and alone).
func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

@Suite struct ChartTests {
    @Test func niceStepsAreOneTwoFiveTimesAPowerOfTen() {
        #expect(TickGenerator.niceStep(span: 1, count: 5) == 0.2)          // 0.2 = 2 × 10⁻¹
        #expect(TickGenerator.niceStep(span: 3.72, count: 5) == 1)         // 0.744 → 1
        #expect(TickGenerator.niceStep(span: 100, count: 5) == 20)
        #expect(abs(TickGenerator.niceStep(span: 0.074, count: 5) - 0.02) < 1e-15)  // 0.0148 → 0.02
        #expect(TickGenerator.niceStep(span: 35, count: 5) == 5)           // 7 → 5 (7 < √50)
    }

    @Test func linearTicksCoverTheDataWithNiceValues() {
        let ticks = TickGenerator.linear(low: 0, high: 3.72)
        #expect(ticks.domain == 0...4)
        #expect(ticks.values == [0, 1, 2, 3, 4])
        #expect(ticks.labels == ["0", "1", "2", "3", "4"])

        let small = TickGenerator.linear(low: 0.013, high: 0.087)
        #expect(small.values == [0, 0.02, 0.04, 0.06, 0.08, 0.1])
        #expect(small.labels == ["0", "0.02", "0.04", "0.06", "0.08", "0.10"])

        let negative = TickGenerator.linear(low: -1.3, high: 0.4)   // 1.7 / 5 = 0.34 → step 0.5
        #expect(negative.values == [-1.5, -1, -0.5, 0, 0.5])
        #expect(negative.labels == ["-1.5", "-1.0", "-0.5", "0", "0.5"])

        // A sum of steps just above an integer does not open a new interval.
        #expect(TickGenerator.linear(low: 0, high: 4.000000000003).domain == 0...4)
        // One value: widened around it.
        #expect(TickGenerator.linear(low: 5, high: 5).domain == 2...8)
        #expect(TickGenerator.linear(low: 0, high: 0).domain == -1...1)
    }

    @Test func logTicksArePowersOfTenAndNiceMantissas() {
        let wide = TickGenerator.log10(low: 0.003, high: 0.8)
        #expect(wide.domain == 0.002...1)
        #expect(wide.values == [0.01, 0.1, 1])
        #expect(wide.labels == ["0.01", "0.1", "1"])
        #expect(wide.minorValues.contains(0.002) && wide.minorValues.contains(0.5))

        let short = TickGenerator.log10(low: 2, high: 40)  // 1.4 decades after widening to 2…50: 1, 2, 5 × 10ᵏ
        #expect(short.domain == 2...50)
        #expect(short.values == [2, 5, 10, 20, 50])

        let tiny = TickGenerator.log10(low: 1e-7, high: 3e-5)
        #expect(tiny.labels == ["10⁻⁷", "10⁻⁶", "10⁻⁵"])

        let huge = TickGenerator.log10(low: 1e-9, high: 10)   // 10 decades: every second power
        #expect(huge.values.count == 5)   // 10⁻⁸, 10⁻⁶, 10⁻⁴, 0.01, 1
        #expect(huge.labels.first == "10⁻⁸" && huge.labels.last == "1")
    }

    @Test func valuesMapToPixelsLinearlyAndLogarithmically() throws {
        let linear = AxisMapping(scale: .linear, domain: 0...4, start: 100, end: 500)
        #expect(linear.position(0) == 100)
        #expect(linear.position(1) == 200)
        #expect(linear.position(4) == 500)
        #expect(linear.position(.nan) == nil)

        // log axis 10⁻³…10¹ on pixels 0…400: 0.1 is 2 of 4 decades in → 200; 0.5 → 100·(3 + log₁₀ 0.5).
        let log = AxisMapping(scale: .log10, domain: 1e-3...10, start: 0, end: 400)
        #expect(abs(try #require(log.position(0.1)) - 200) < 1e-9)
        #expect(abs(try #require(log.position(1e-3)) - 0) < 1e-9)
        #expect(abs(try #require(log.position(0.5)) - 100 * (3 + Foundation.log10(0.5))) < 1e-9)  // 269.897
        #expect(log.position(0) == nil && log.position(-1) == nil)

        // A y axis runs upwards: the bottom pixel is the domain's low end.
        let y = AxisMapping(scale: .log10, domain: 1...100, start: 362, end: 38)
        #expect(abs(try #require(y.position(10)) - 200) < 1e-9)
    }

    @Test func chartIsWellFormedSVGWithTicksTitlesAndLegend() {
        let chart = Chart(title: "Risk <R> & friends", x: ChartAxis("mean-field time t = Σ η"), y: ChartAxis("risk R", scale: .log10),
                          series: [ChartSeries("R \"train\"", x: [0, 1, 2, 3], y: [1, 0.1, 0.01, 0.001], style: .lineWithMarkers),
                                   ChartSeries("eval", x: [0, 1, 2, 3], y: [1, 0.5, 0.4, 0.3], errorLow: [0.9, 0.4, 0.3, 0.2], errorHigh: [1.1, 0.6, 0.5, 0.4]),
                                   .referenceSlope("−1/2 reference", slope: -0.5, through: (1, 0.1), xRange: 1...3)])
        let svg = chart.svg(id: "fig-1")
        #expect(isWellFormedXML(svg))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("Risk &lt;R&gt; &amp; friends"))
        #expect(svg.contains("R &quot;train&quot;"))
        #expect(svg.contains(">mean-field time t = Σ η</text>") && svg.contains(">risk R</text>"))
        for label in [">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>", ">0</text>", ">0.5</text>", ">3.0</text>"] {
            #expect(svg.contains(label), "tick label \(label)")
        }
        #expect(svg.contains("stroke-dasharray"))           // the reference line
        #expect(svg.contains("clip-path=\"url(#fig-1-clip)\""))
        #expect(svg.contains(ChartPalette.colour(0)) && svg.contains(ChartPalette.colour(1)))
        #expect(svg.contains(">−1/2 reference</text>"))
    }

    @Test func nanInfinityNonPositiveAndEmptySeriesDoNotBreakTheChart() {
        let broken = Chart(title: "gaps", x: ChartAxis("x", scale: .log10), y: ChartAxis("y", scale: .log10),
                           series: [ChartSeries("a", x: [1, 2, 3, 4, 5], y: [1, .nan, 3, -1, .infinity]),
                                    ChartSeries("empty", x: [], y: [])])
        let svg = broken.svg(id: "gaps")
        #expect(isWellFormedXML(svg))
        #expect(!svg.contains("NaN") && !svg.contains("inf"))
        let empty = Chart(title: "nothing", x: ChartAxis("x"), y: ChartAxis("y"), series: [ChartSeries("a", x: [.nan], y: [.nan])])
        #expect(!empty.hasDrawablePoints)
        let emptySVG = empty.svg(id: "empty")
        #expect(isWellFormedXML(emptySVG) && emptySVG.contains(">no data</text>"))
        #expect(isWellFormedXML(Chart(title: "", x: ChartAxis(""), y: ChartAxis("")).svg(id: "bare")))
    }

    @Test func escapingCoversMarkupAndControlCharacters() {
        #expect(MarkupText.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(MarkupText.escape("bell\u{7}") == "bell\u{FFFD}")
        #expect(MarkupText.number(0.012346) == "0.01235")
        #expect(MarkupText.number(2) == "2")
        #expect(MarkupText.number(1.23e-7) == "1.230e-7")
        #expect(MarkupText.number(.nan) == "NaN")
    }

    @Test func principalComponentsOfAnElongatedCloud() throws {
        // Points on the line y = 2x (plus a small orthogonal spread): PC 1 ∝ (1, 2)/√5.
        let points: [[Double]] = [[-2, -4, 0.1], [-1, -2, -0.1], [0, 0, 0], [1, 2, -0.1], [2, 4, 0.1]]
        let pca = PrincipalComponents(points: points, count: 2)
        let first = pca.components[0]
        #expect(abs(first[0] - 1 / 5.0.squareRoot()) < 1e-6 && abs(first[1] - 2 / 5.0.squareRoot()) < 1e-6)
        #expect(abs(pca.variances[0] - 10) < 1e-6)          // Σ (x² + 4x²)/5 = 5·10/5
        #expect(abs(pca.project([1, 2, 0])[0] - 5.0.squareRoot()) < 1e-6)
        #expect(abs(zip(pca.components[0], pca.components[1]).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-9)
    }
}
