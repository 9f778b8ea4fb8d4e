// Where the text of an SVG chart lies: each <text> element's box estimated from its position,
// anchor, font size, rotation and the advance widths of DejaVu Sans (the charts' first font), so a
// test can tell that no label, title or legend entry runs past the canvas (viewBox) — a clipped
// axis title, a legend wider than the chart — without a browser.
import Foundation

/// One text element of an SVG and its estimated box in canvas coordinates.
struct SVGTextBox: CustomStringConvertible {
    var text: String
    var minX: Double, maxX: Double, minY: Double, maxY: Double
    var description: String {
        "'\(text)' spans x \(Int(minX.rounded()))…\(Int(maxX.rounded())), y \(Int(minY.rounded()))…\(Int(maxY.rounded()))"
    }
}

enum SVGTextExtents {
    /// The advance width of a character in em (DejaVu Sans, rounded up: an estimate that errs wide).
    static func advance(_ character: Character, bold: Bool) -> Double {
        let narrow: Set<Character> = ["i", "j", "l", "I", "'", "|", ".", ",", ":", ";", "!", "(", ")", "[", "]", " ", "f", "t", "r", "/", "−", "-"]
        let wide: Set<Character> = ["m", "w", "M", "W", "—", "%", "@", "…", "×"]
        var width: Double
        if narrow.contains(character) { width = 0.4 } else if wide.contains(character) { width = 0.95 }
        else if character.isUppercase { width = 0.75 } else { width = 0.64 }
        return bold ? width * 1.1 : width
    }

    /// The canvas (the viewBox's width and height) of an `<svg>` element.
    static func canvas(_ svg: String) -> (width: Double, height: Double)? {
        guard let viewBox = attributes(of: String(svg.prefix { $0 != ">" }))["viewBox"] else { return nil }
        let numbers = viewBox.split(separator: " ").compactMap { Double($0) }
        return numbers.count == 4 ? (numbers[2], numbers[3]) : nil
    }

    /// `name="value"` pairs of a tag's text.
    static func attributes(of tag: String) -> [String: String] {
        var result: [String: String] = [:]
        let pattern = try! NSRegularExpression(pattern: #"([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"]*)""#)
        for match in pattern.matches(in: tag, range: NSRange(tag.startIndex..., in: tag)) {
            result[String(tag[Range(match.range(at: 1), in: tag)!])] = String(tag[Range(match.range(at: 2), in: tag)!])
        }
        return result
    }

    /// The estimated box of every `<text>` of an `<svg>` element. Inherited from enclosing `<g>` and
    /// `<svg>`: font-size, text-anchor and font-weight; a `transform` of the form
    /// `translate(x y) rotate(-90)` (the y-axis title) is applied.
    static func boxes(_ svg: String) -> [SVGTextBox] {
        var stack: [[String: String]] = []
        var boxes: [SVGTextBox] = []
        let tags = try! NSRegularExpression(pattern: #"<(/?)([A-Za-z]+)([^>]*?)(/?)>"#)
        let matches = tags.matches(in: svg, range: NSRange(svg.startIndex..., in: svg))
        for (index, match) in matches.enumerated() {
            let closing = match.range(at: 1).length > 0, selfClosing = match.range(at: 4).length > 0
            let name = String(svg[Range(match.range(at: 2), in: svg)!])
            let attributes = Self.attributes(of: String(svg[Range(match.range(at: 3), in: svg)!]))
            if name == "g" || name == "svg" {
                if closing { _ = stack.popLast() } else if !selfClosing { stack.append(attributes) }
                continue
            }
            guard name == "text", !closing, index + 1 < matches.count else { continue }
            let contentRange = Range(match.range, in: svg)!.upperBound..<Range(matches[index + 1].range, in: svg)!.lowerBound
            let text = unescape(String(svg[contentRange]))
            func inherited(_ key: String) -> String? { attributes[key] ?? stack.reversed().lazy.compactMap { $0[key] }.first }
            let size = Double(inherited("font-size") ?? "12") ?? 12
            let bold = inherited("font-weight") == "bold"
            let width = text.reduce(0) { $0 + advance($1, bold: bold) } * size
            let anchor = inherited("text-anchor") ?? "start"
            var x = Double(attributes["x"] ?? "0") ?? 0, y = Double(attributes["y"] ?? "0") ?? 0
            var rotated = false
            if let transform = attributes["transform"] {
                let numbers = transform.split(whereSeparator: { !"0123456789.-".contains($0) }).compactMap { Double($0) }
                if transform.hasPrefix("translate"), numbers.count >= 2 { x += numbers[0]; y += numbers[1] }
                rotated = transform.contains("rotate(-90)")
            }
            // Along the text: [start, end] from the anchor; across it: ascent 0.8 em above the baseline, descent 0.25 em below.
            let start = anchor == "middle" ? -width / 2 : anchor == "end" ? -width : 0
            if rotated {
                // rotate(-90): the text runs upwards from (x, y); "above the baseline" points to −x.
                boxes.append(SVGTextBox(text: text, minX: x - 0.8 * size, maxX: x + 0.25 * size, minY: y - (start + width), maxY: y - start))
            } else {
                boxes.append(SVGTextBox(text: text, minX: x + start, maxX: x + start + width, minY: y - 0.8 * size, maxY: y + 0.25 * size))
            }
        }
        return boxes
    }

    /// The text boxes of `svg` that run past its canvas, with a 1-pixel tolerance.
    static func outside(_ svg: String) -> [SVGTextBox] {
        guard let canvas = canvas(svg) else { return [] }
        return boxes(svg).filter { $0.minX < -1 || $0.minY < -1 || $0.maxX > canvas.width + 1 || $0.maxY > canvas.height + 1 }
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
