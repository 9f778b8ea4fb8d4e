import Foundation

/// Drawing a ``Chart`` as SVG. Layout (pixels): title on top, the plot area framed and gridded,
/// tick labels and axis titles around it, the legend in rows under the x-axis title.
extension Chart {
    static let fontFamily = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
    static let marginLeft = 78.0, marginRight = 22.0, marginTop = 38.0, axisBand = 50.0
    static let legendRowHeight = 18.0, legendCharacterWidth = 7.0, maximumLegendEntries = 16

    /// The chart as one `<svg>` element. `id` must be unique on the page (it names the clip path).
    public func svg(id: String) -> String {
        let c = MarkupText.coordinate
        let escape = MarkupText.escape
        let safeID = String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })

        // Colours: automatic series take palette entries not claimed by explicit ones, in order.
        let claimed = Set(series.compactMap { if case .palette(let index) = $0.colour { index } else { nil } })
        var nextFree = 0
        let paletteIndex: [Int?] = series.map { item in
            switch item.colour {
            case .palette(let index): return index
            case .reference: return nil
            case .automatic:
                while claimed.contains(nextFree) { nextFree += 1 }
                defer { nextFree += 1 }
                return nextFree
            }
        }
        let colours = paletteIndex.map { $0.map(ChartPalette.colour) ?? ChartPalette.reference }

        // Legend layout (rows of entries that fit the width), then the plot area above it.
        let legend = legendLayout(paletteIndex: paletteIndex)
        let legendHeight = legend.isEmpty ? 0 : Double((legend.map(\.row).max() ?? 0) + 1) * Self.legendRowHeight + 6
        let plotLeft = Self.marginLeft, plotRight = width - Self.marginRight
        let plotTop = Self.marginTop, plotBottom = max(plotTop + 60, height - Self.axisBand - legendHeight)
        let totalHeight = max(height, plotBottom + Self.axisBand + legendHeight)

        // Axes from the drawable data.
        var xs: [Double] = [], ys: [Double] = []
        for item in series where item.affectsRange {
            if item.style == .edgeMarkers {
                // Only x: the y of an off-scale point never sets the range.
                xs += item.x.filter(xAxis.scale.accepts)
                continue
            }
            for index in item.x.indices where xAxis.scale.accepts(item.x[index]) && yAxis.scale.accepts(item.y[index]) {
                xs.append(item.x[index])
                ys.append(item.y[index])
                for bound in [item.errorLow?[index], item.errorHigh?[index]] {
                    if let bound, yAxis.scale.accepts(bound) { ys.append(bound) }
                }
            }
        }
        let xTicks = TickGenerator.ticks(for: xAxis, data: xs)
        let yTicks = TickGenerator.ticks(for: yAxis, data: ys)
        let xMap = AxisMapping(scale: xAxis.scale, domain: xTicks.domain, start: plotLeft, end: plotRight)
        let yMap = AxisMapping(scale: yAxis.scale, domain: yTicks.domain, start: plotBottom, end: plotTop)

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(safeID)\" class=\"chart\" width=\"\(c(width))\" height=\"\(c(totalHeight))\" viewBox=\"0 0 \(c(width)) \(c(totalHeight))\" font-family=\"\(Self.fontFamily)\" font-size=\"12\" role=\"img\">\n"
        out += "<title>\(escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(c(width))\" height=\"\(c(totalHeight))\" fill=\"#ffffff\"/>\n"
        out += "<defs><clipPath id=\"\(safeID)-clip\"><rect x=\"\(c(plotLeft - 6))\" y=\"\(c(plotTop - 6))\" width=\"\(c(plotRight - plotLeft + 12))\" height=\"\(c(plotBottom - plotTop + 12))\"/></clipPath></defs>\n"
        let titleText = Self.fitted(title, room: width - 8, size: 15, minimum: 11, bold: true)
        for (line, text) in titleText.lines.enumerated() {
            let y = titleText.lines.count == 1 ? 22 : 16 + Double(line) * titleText.size * 1.15
            out += "<text class=\"chart-title\" x=\"\(c(width / 2))\" y=\"\(c(y))\" text-anchor=\"middle\" font-size=\"\(c(titleText.size))\" font-weight=\"bold\" fill=\"#222\">\(escape(text))</text>\n"
        }

        // Grid lines and tick labels.
        out += "<g class=\"grid\" stroke-width=\"1\">\n"
        for value in xTicks.minorValues { if let x = xMap.position(value) { out += "<line x1=\"\(c(x))\" y1=\"\(c(plotTop))\" x2=\"\(c(x))\" y2=\"\(c(plotBottom))\" stroke=\"#f0f0f0\"/>\n" } }
        for value in yTicks.minorValues { if let y = yMap.position(value) { out += "<line x1=\"\(c(plotLeft))\" y1=\"\(c(y))\" x2=\"\(c(plotRight))\" y2=\"\(c(y))\" stroke=\"#f0f0f0\"/>\n" } }
        for value in xTicks.values { if let x = xMap.position(value) { out += "<line x1=\"\(c(x))\" y1=\"\(c(plotTop))\" x2=\"\(c(x))\" y2=\"\(c(plotBottom))\" stroke=\"#dcdcdc\"/>\n" } }
        for value in yTicks.values { if let y = yMap.position(value) { out += "<line x1=\"\(c(plotLeft))\" y1=\"\(c(y))\" x2=\"\(c(plotRight))\" y2=\"\(c(y))\" stroke=\"#dcdcdc\"/>\n" } }
        out += "</g>\n"
        out += "<rect x=\"\(c(plotLeft))\" y=\"\(c(plotTop))\" width=\"\(c(plotRight - plotLeft))\" height=\"\(c(plotBottom - plotTop))\" fill=\"none\" stroke=\"#888\"/>\n"
        out += "<g class=\"x-ticks\" fill=\"#333\" text-anchor=\"middle\" font-size=\"11\">\n"
        for (value, label) in zip(xTicks.values, xTicks.labels) {
            guard let x = xMap.position(value) else { continue }
            out += "<line x1=\"\(c(x))\" y1=\"\(c(plotBottom))\" x2=\"\(c(x))\" y2=\"\(c(plotBottom + 4))\" stroke=\"#888\"/>"
            out += "<text x=\"\(c(x))\" y=\"\(c(plotBottom + 17))\">\(escape(label))</text>\n"
        }
        out += "</g>\n<g class=\"y-ticks\" fill=\"#333\" text-anchor=\"end\" font-size=\"11\">\n"
        for (value, label) in zip(yTicks.values, yTicks.labels) {
            guard let y = yMap.position(value) else { continue }
            out += "<line x1=\"\(c(plotLeft - 4))\" y1=\"\(c(y))\" x2=\"\(c(plotLeft))\" y2=\"\(c(y))\" stroke=\"#888\"/>"
            out += "<text x=\"\(c(plotLeft - 7))\" y=\"\(c(y + 4))\">\(escape(label))</text>\n"
        }
        out += "</g>\n"
        // Axis titles: centred on the plot, made smaller (then wrapped, then shortened) to stay on the canvas.
        let xCentre = (plotLeft + plotRight) / 2, yCentre = (plotTop + plotBottom) / 2
        let xTitle = Self.fitted(xAxis.title, room: 2 * min(xCentre, width - xCentre) - 8, size: 13, minimum: 10, bold: false)
        for (line, text) in xTitle.lines.enumerated() {
            out += "<text class=\"x-title\" x=\"\(c(xCentre))\" y=\"\(c(plotBottom + 36 + Double(line) * xTitle.size * 1.15))\" text-anchor=\"middle\" font-size=\"\(c(xTitle.size))\" fill=\"#222\">\(escape(text))</text>\n"
        }
        let yTitle = Self.fitted(yAxis.title, room: 2 * min(yCentre, totalHeight - yCentre) - 8, size: 13, minimum: 10, bold: false)
        for (line, text) in yTitle.lines.enumerated() {
            let x = (yTitle.lines.count == 1 ? 18 : 13) + Double(line) * yTitle.size * 1.15
            out += "<text class=\"y-title\" transform=\"translate(\(c(x)) \(c(yCentre))) rotate(-90)\" text-anchor=\"middle\" font-size=\"\(c(yTitle.size))\" fill=\"#222\">\(escape(text))</text>\n"
        }

        // Series: error bars, lines, markers (clipped to the plot area).
        out += "<g class=\"series\" clip-path=\"url(#\(safeID)-clip)\">\n"
        for (index, item) in series.enumerated() {
            let colour = colours[index]
            let marker = paletteIndex[index].map(ChartPalette.marker) ?? .circle
            out += "<g opacity=\"\(c(item.opacity))\">"
            if let low = item.errorLow, let high = item.errorHigh {
                for point in item.x.indices {
                    guard let x = xMap.position(item.x[point]), let y0 = yMap.position(low[point]), let y1 = yMap.position(high[point]) else { continue }
                    out += "<path d=\"M\(c(x)) \(c(y0))V\(c(y1))M\(c(x - 4)) \(c(y0))h8M\(c(x - 4)) \(c(y1))h8\" stroke=\"\(colour)\" stroke-width=\"1.2\" fill=\"none\"/>"
                }
            }
            if item.style == .edgeMarkers {
                // A cross just inside the top edge at each x.
                for point in item.x.indices {
                    guard let x = xMap.position(item.x[point]) else { continue }
                    out += Self.cross(x: x, y: plotTop + 7, radius: max(4, item.markerRadius), colour: colour)
                }
                out += "</g>\n"
                continue
            }
            if item.style != .markers {
                let path = Self.linePath(item, xMap: xMap, yMap: yMap)
                if !path.isEmpty {
                    out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(c(item.lineWidth))\" stroke-linejoin=\"round\" stroke-linecap=\"round\"\((item.dashPattern ?? (item.dashed ? "7 5" : nil)).map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
                }
            }
            if item.style != .line {
                for point in item.x.indices {
                    guard let x = xMap.position(item.x[point]), let y = yMap.position(item.y[point]) else { continue }
                    out += marker.svg(x: x, y: y, radius: item.markerRadius, fill: colour, stroke: "#ffffff")
                }
            }
            out += "</g>\n"
        }
        out += "</g>\n"
        if !hasDrawablePoints {
            out += "<text class=\"empty\" x=\"\(c((plotLeft + plotRight) / 2))\" y=\"\(c((plotTop + plotBottom) / 2))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#999\">\(escape(emptyMessage))</text>\n"
        }

        // Legend.
        if !legend.isEmpty {
            out += "<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n"
            let legendTop = plotBottom + Self.axisBand + 4
            for entry in legend {
                let x = plotLeft + entry.x, y = legendTop + Double(entry.row) * Self.legendRowHeight + 9
                if let index = entry.series {
                    let item = series[index]
                    let colour = colours[index]
                    if item.style == .edgeMarkers {
                        out += Self.cross(x: x + 12, y: y, radius: 4.5, colour: colour)
                    } else if item.style != .markers {
                        out += "<line x1=\"\(c(x))\" y1=\"\(c(y))\" x2=\"\(c(x + 24))\" y2=\"\(c(y))\" stroke=\"\(colour)\" stroke-width=\"\(c(item.lineWidth))\"\((item.dashPattern ?? (item.dashed ? "5 3" : nil)).map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
                    }
                    if item.style != .line && item.style != .edgeMarkers {
                        let marker = paletteIndex[index].map(ChartPalette.marker) ?? .circle
                        out += marker.svg(x: x + 12, y: y, radius: item.markerRadius, fill: colour, stroke: "#ffffff")
                    }
                }
                out += "<text x=\"\(c(x + (entry.series == nil ? 0 : 30)))\" y=\"\(c(y + 4))\">\(escape(entry.text))</text>\n"
            }
            out += "</g>\n"
        }
        out += "</svg>"
        return out
    }

    /// The estimated width of `text` at font size `size` (DejaVu Sans, erring wide: capitals and
    /// wide letters 0.95 em, narrow ones 0.45 em, the rest 0.66 em; bold 10% wider).
    static func textWidth(_ text: String, size: Double, bold: Bool) -> Double {
        let narrow = Set("ijlI'|.,:;!()[] ftr/-−")
        let em = text.reduce(0.0) { sum, character in
            sum + (narrow.contains(character) ? 0.45 : character.isUppercase || "mwMW—%@…×".contains(character) ? 0.95 : 0.66)
        }
        return em * size * (bold ? 1.1 : 1)
    }

    /// `text` fitted into `room` pixels: at `size` when it fits, else at the largest size down to
    /// `minimum` that fits, else in two lines broken at a space, else shortened with "…" (the
    /// chart's `<title>` keeps the whole text).
    static func fitted(_ text: String, room: Double, size: Double, minimum: Double, bold: Bool) -> (lines: [String], size: Double) {
        let full = textWidth(text, size: size, bold: bold)
        if full <= room { return ([text], size) }
        let shrunk = (size * room / full * 2).rounded(.down) / 2
        if shrunk >= minimum { return ([text], shrunk) }
        func shortened(_ line: String) -> String {
            var line = line
            while line.count > 1 && textWidth(line + "…", size: minimum, bold: bold) > room { line.removeLast() }
            return line == text ? line : line.trimmingCharacters(in: .whitespaces) + "…"
        }
        // Two lines, broken at the space that balances them best.
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2 else { return ([shortened(text)], minimum) }
        let splits = (1..<words.count).map { (words[..<$0].joined(separator: " "), words[$0...].joined(separator: " ")) }
        let best = splits.min { max(textWidth($0.0, size: minimum, bold: bold), textWidth($0.1, size: minimum, bold: bold))
            < max(textWidth($1.0, size: minimum, bold: bold), textWidth($1.1, size: minimum, bold: bold)) }!
        let fits = { (line: String) in textWidth(line, size: minimum, bold: bold) <= room }
        return ([fits(best.0) ? best.0 : shortened(best.0), fits(best.1) ? best.1 : shortened(best.1)], minimum)
    }

    /// One legend entry placed at (x, row); `series` nil for the "… more" note.
    struct LegendEntry {
        var series: Int?
        var text: String
        var x: Double
        var row: Int
    }

    /// Entries flow left to right and wrap at the plot width.
    func legendLayout(paletteIndex: [Int?]) -> [LegendEntry] {
        let listed = series.indices.filter { series[$0].inLegend && !series[$0].name.isEmpty }
        let available = width - Self.marginLeft - Self.marginRight
        var entries: [LegendEntry] = []
        var x = 0.0, row = 0
        for (position, index) in listed.enumerated() {
            let shown = position < Self.maximumLegendEntries
            let text = shown ? series[index].name : "… and \(listed.count - Self.maximumLegendEntries) more"
            let entryWidth = (shown ? 30 : 0) + Double(text.count) * Self.legendCharacterWidth + 16
            if x > 0 && x + entryWidth > available {
                x = 0
                row += 1
            }
            entries.append(LegendEntry(series: shown ? index : nil, text: text, x: x, row: row))
            x += entryWidth
            if !shown { break }
        }
        return entries
    }

    /// An "×" of half-size `radius` centred at (x, y): the mark of a point off the scale.
    static func cross(x: Double, y: Double, radius r: Double, colour: String) -> String {
        let c = MarkupText.coordinate
        return "<path class=\"off-scale\" d=\"M\(c(x - r)) \(c(y - r))L\(c(x + r)) \(c(y + r))M\(c(x - r)) \(c(y + r))L\(c(x + r)) \(c(y - r))\" stroke=\"\(colour)\" stroke-width=\"2.2\" fill=\"none\"/>"
    }

    /// "M x y L x y …" through the drawable points; a point that cannot be drawn starts a new piece.
    static func linePath(_ series: ChartSeries, xMap: AxisMapping, yMap: AxisMapping) -> String {
        let c = MarkupText.coordinate
        var path = "", penDown = false
        path.reserveCapacity(series.x.count * 14)
        for index in series.x.indices {
            guard let x = xMap.position(series.x[index]), let y = yMap.position(series.y[index]) else {
                penDown = false
                continue
            }
            path += (penDown ? "L" : "M") + c(x) + " " + c(y)
            penDown = true
        }
        return path
    }
}
