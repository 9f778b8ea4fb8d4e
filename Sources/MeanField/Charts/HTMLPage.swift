import Foundation

/// One self-contained HTML page: inline CSS and inline SVG, no script, no external resource, so the
/// file can be mailed, archived or opened offline. Built from a title, a metadata table and
/// sections; a table of contents links the sections.
public struct HTMLPage {
    /// A titled part of the page (`<section id=…>`), made of blocks in order.
    public struct Section {
        public var id: String
        public var title: String
        var blocks: [Block] = []

        /// A piece of a section: finished HTML, or a chart numbered when the page is rendered.
        enum Block {
            case html(String)
            case figure(Chart, caption: String)
        }

        public init(id: String, title: String) {
            self.id = id
            self.title = title
        }

        /// A paragraph of plain text.
        public mutating func paragraph(_ text: String) {
            blocks.append(.html("<p>\(MarkupText.escape(text))</p>"))
        }

        /// A chart with a caption; figures are numbered (and their SVG ids assigned) when the page is rendered.
        public mutating func figure(_ chart: Chart, caption: String) {
            blocks.append(.figure(chart, caption: caption))
        }

        /// A table; `numeric` columns are right-aligned. `highlight(row, column)` shades a cell with
        /// an intensity 0…1 (e.g. a confusion matrix).
        public mutating func table(headers: [String], rows: [[String]], caption: String? = nil, numeric: Set<Int> = [],
                                   shade: ((Int, Int) -> Double?)? = nil) {
            var html = "<div class=\"table-wrap\"><table>"
            if let caption { html += "<caption>\(MarkupText.escape(caption))</caption>" }
            html += "<thead><tr>" + headers.map { "<th>\(MarkupText.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
            for (rowIndex, row) in rows.enumerated() {
                html += "<tr>"
                for (column, cell) in row.enumerated() {
                    var attributes = numeric.contains(column) ? " class=\"num\"" : ""
                    if let intensity = shade?(rowIndex, column), intensity.isFinite, intensity > 0 {
                        let alpha = min(1, max(0, intensity)) * 0.75
                        attributes += " style=\"background: rgba(0, 114, 178, \(MarkupText.number(alpha, significantDigits: 2)))\(alpha > 0.45 ? "; color: #fff" : "")\""
                    }
                    html += "<td\(attributes)>\(MarkupText.escape(cell))</td>"
                }
                html += "</tr>"
            }
            blocks.append(.html(html + "</tbody></table></div>"))
        }

        /// A two-column table of names and values.
        public mutating func keyValues(_ pairs: [(String, String)], caption: String? = nil) {
            table(headers: ["setting", "value"], rows: pairs.map { [$0.0, $0.1] }, caption: caption)
        }

        /// A highlighted box listing findings (e.g. failure signatures); each item is a bold title and text.
        public mutating func alerts(_ items: [(title: String, text: String)], kind: String = "warning") {
            let list = items.map { "<li><strong>\(MarkupText.escape($0.title))</strong> \(MarkupText.escape($0.text))</li>" }.joined()
            blocks.append(.html("<div class=\"alert \(MarkupText.escape(kind))\"><ul>\(list)</ul></div>"))
        }

        /// Content hidden behind a disclosure triangle (`<details>`; no script needed).
        public mutating func collapsed(_ summary: String, _ build: (inout Section) -> Void) {
            var inner = Section(id: id, title: "")
            build(&inner)
            blocks.append(.html("<details><summary>\(MarkupText.escape(summary))</summary>"))
            blocks += inner.blocks
            blocks.append(.html("</details>"))
        }

        /// Whether anything was added.
        public var isEmpty: Bool { blocks.isEmpty }
    }

    public var title: String
    public var subtitle: String
    private var sections: [Section] = []

    public init(title: String, subtitle: String = "") {
        self.title = title
        self.subtitle = subtitle
    }

    /// Appends a section (ignored when it is empty: a section appears only when it has data).
    public mutating func add(_ section: Section) {
        if !section.isEmpty { sections.append(section) }
    }

    /// Every figure of the page with its number (as ``render()`` numbers them: in order, from 1)
    /// and caption: what `meanfield report --figures` writes one file per.
    public var figures: [(number: Int, chart: Chart, caption: String)] {
        let all = sections.flatMap(\.blocks).compactMap { block -> (Chart, String)? in
            if case .figure(let chart, let caption) = block { return (chart, caption) }
            return nil
        }
        return all.enumerated().map { (number: $0.offset + 1, chart: $0.element.0, caption: $0.element.1) }
    }

    /// The ids of the sections on the page, in order.
    public var sectionIDs: [String] { sections.map(\.id) }

    /// The whole page. Figures are numbered in order; chart ids are `fig-N`.
    public func render() -> String {
        var figureNumber = 0
        var body = ""
        for section in sections {
            body += "<section id=\"\(MarkupText.escape(section.id))\">\n<h2>\(MarkupText.escape(section.title))</h2>\n"
            var pendingFigures: [String] = []
            func flushFigures() {
                if !pendingFigures.isEmpty { body += "<div class=\"figures\">\n" + pendingFigures.joined(separator: "\n") + "\n</div>\n" }
                pendingFigures = []
            }
            for block in section.blocks {
                switch block {
                case .figure(let chart, let caption):
                    figureNumber += 1
                    let svg = chart.svg(id: "fig-\(figureNumber)")
                    pendingFigures.append("<figure>\n\(svg)\n<figcaption><b>Figure \(figureNumber).</b> \(MarkupText.escape(caption))</figcaption>\n</figure>")
                case .html(let html):
                    flushFigures()
                    body += html + "\n"
                }
            }
            flushFigures()
            body += "</section>\n"
        }
        let contents = sections.map { "<a href=\"#\(MarkupText.escape($0.id))\">\(MarkupText.escape($0.title))</a>" }.joined(separator: " · ")
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="meanfield report \(MeanFieldVersion.current)">
        <title>\(MarkupText.escape(title))</title>
        <style>\(Self.css)</style>
        </head>
        <body>
        <header>
        <h1>\(MarkupText.escape(title))</h1>
        \(subtitle.isEmpty ? "" : "<p class=\"subtitle\">\(MarkupText.escape(subtitle))</p>")
        <nav>\(contents)</nav>
        </header>
        <main>
        \(body)</main>
        <footer>Generated by meanfield report \(MeanFieldVersion.current). Self-contained: inline SVG and CSS, no scripts.</footer>
        </body>
        </html>

        """
    }

    static let css = """
    body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #222; background: #fafafa; margin: 0; }
    header { background: #fff; border-bottom: 1px solid #ddd; padding: 16px 28px 10px; }
    h1 { font-size: 24px; margin: 0 0 4px; }
    .subtitle { color: #555; margin: 0 0 8px; }
    nav { font-size: 13px; color: #888; } nav a { color: #0072B2; text-decoration: none; }
    main { padding: 8px 28px 28px; }
    section { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; margin: 16px 0; padding: 4px 18px 14px; }
    h2 { font-size: 19px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
    p { line-height: 1.45; max-width: 1100px; }
    .figures { display: flex; flex-wrap: wrap; gap: 12px 20px; }
    figure { margin: 0; flex: 1 1 540px; max-width: 640px; }
    figure svg { display: block; border: 1px solid #eee; width: 100%; height: auto; }
    figcaption { font-size: 13px; color: #444; line-height: 1.4; margin-top: 4px; }
    .table-wrap { overflow-x: auto; margin: 8px 24px 12px 0; display: inline-block; vertical-align: top; max-width: 100%; }
    table { border-collapse: collapse; font-size: 13px; }
    caption { text-align: left; font-weight: bold; padding: 4px 0; }
    th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
    th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .alert { border-left: 5px solid #D55E00; background: #fff4ec; padding: 6px 14px; margin: 10px 0; }
    .alert.ok { border-left-color: #009E73; background: #eefaf5; }
    .alert li { margin: 6px 0; line-height: 1.4; }
    details { margin: 8px 0; } summary { cursor: pointer; color: #0072B2; }
    footer { color: #888; font-size: 12px; padding: 0 28px 20px; }
    """
}
