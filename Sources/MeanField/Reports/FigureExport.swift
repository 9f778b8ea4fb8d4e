import Foundation

/// `meanfield report DIR --figures OUT`: each figure of a report on its own, for a paper.
///
/// Per figure N (numbered as on the page), `OUT/fig-NN-<title>.`:
/// - `svg`: the chart exactly as the page draws it, as a standalone SVG file;
/// - `csv`: the plotted points (``Chart/dataCSV``), to redraw it in matplotlib;
/// - `png`: rendered at 2× (1280 px wide for a 640 px chart) by `rsvg-convert` (Debian
///   `librsvg2-bin`), else by headless Chromium; absent when neither is installed;
/// - `pdf`: vector, by `rsvg-convert -f pdf`; absent without it.
///
/// `OUT/figures.csv` indexes them: figure, file stem, title, axis titles and scales (`linear` or
/// `log10`), caption, and the formats written. docs/reports.md, "Figures for papers".
public enum FigureExport {
    /// What was written, and what could not be (a converter missing or failing).
    public struct Result: Sendable {
        /// The file stems `OUT/fig-NN-<title>`, in figure order.
        public var stems: [String]
        /// The formats written for every figure ("svg", "csv", "png", "pdf").
        public var formats: [String]
        public var warnings: [String]
    }

    /// The index file's name and columns.
    public static let indexFile = "figures.csv"
    public static let indexColumns = ["figure", "file", "title", "x_title", "x_scale", "y_title", "y_scale", "caption", "formats"]

    /// Writes every figure of `page` into `directory` (created if needed).
    public static func write(_ page: HTMLPage, to directory: String) throws -> Result {
        let manager = FileManager.default
        do { try manager.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw RunError("--figures \(directory): cannot create the folder (\(error.localizedDescription)); pass a writable folder")
        }
        let rsvg = executable(named: "rsvg-convert")
        let chromium = rsvg == nil ? ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(executable(named:)).first : nil
        var formats = ["svg", "csv"] + (rsvg != nil || chromium != nil ? ["png"] : []) + (rsvg != nil ? ["pdf"] : [])
        var warnings: [String] = []
        if rsvg == nil {
            warnings.append("rsvg-convert not found: " + (chromium == nil ? "no PNG or PDF written" : "PNG rendered by Chromium, no PDF")
                            + " (apt-get install librsvg2-bin)")
        }
        var stems: [String] = [], index = [indexColumns]
        for figure in page.figures {
            let stem = directory + "/" + String(format: "fig-%02d-", figure.number) + slug(figure.chart.title)
            let svg = figure.chart.svg(id: "fig-\(figure.number)")
            try save("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg + "\n", to: stem + ".svg")
            try save(figure.chart.dataCSV, to: stem + ".csv")
            if let rsvg {
                for (format, arguments) in [("png", ["-f", "png", "-z", "2"]), ("pdf", ["-f", "pdf"])] {
                    if let problem = run(rsvg, arguments + ["-o", stem + "." + format, stem + ".svg"]) { warnings.append("\(stem).\(format): \(problem)") }
                }
            } else if let chromium {
                if let problem = screenshot(chromium, svg: stem + ".svg", png: stem + ".png", size: size(of: svg)) { warnings.append("\(stem).png: \(problem)") }
            }
            stems.append(stem)
            func scale(_ axis: ChartAxis) -> String { axis.scale == .linear ? "linear" : "log10" }
            let chart = figure.chart
            index.append([String(figure.number), (stem as NSString).lastPathComponent, chart.title, chart.xAxis.title, scale(chart.xAxis),
                          chart.yAxis.title, scale(chart.yAxis), figure.caption, formats.joined(separator: " ")])
        }
        try save(CSVTable.text(index), to: directory + "/" + indexFile)
        formats = formats.filter { format in stems.allSatisfy { manager.fileExists(atPath: $0 + "." + format) } }
        return Result(stems: stems, formats: formats, warnings: warnings)
    }

    /// A title as a file-name part: lower-case letters and digits, runs of anything else as one `-`, at most 48 characters.
    static func slug(_ title: String) -> String {
        var text = ""
        for scalar in title.lowercased().unicodeScalars {
            if scalar.isASCII && CharacterSet.alphanumerics.contains(scalar) { text.unicodeScalars.append(scalar) } else if !text.hasSuffix("-") { text += "-" }
        }
        let trimmed = String(text.prefix(48)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "figure" : trimmed
    }

    /// The width and height of an `<svg width=… height=…>` element, rounded up to whole pixels.
    static func size(of svg: String) -> (width: Int, height: Int) {
        func attribute(_ name: String) -> Int {
            guard let range = svg.range(of: " \(name)=\"") else { return 640 }
            let digits = svg[range.upperBound...].prefix { $0.isNumber || $0 == "." }
            return Int((Double(digits) ?? 640).rounded(.up))
        }
        return (attribute("width"), attribute("height"))
    }

    private static func save(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw RunError("cannot write \(path): \(error.localizedDescription); pass a writable --figures folder")
        }
    }

    /// The first executable `name` on PATH, or nil.
    static func executable(named name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a converter; nil when it succeeded, else its status and the end of its output.
    private static func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return "cannot run \(executable): \(error.localizedDescription)" }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return nil }
        return "\((executable as NSString).lastPathComponent) exited with status \(process.terminationStatus): \(output.suffix(300))"
    }

    /// A PNG of the SVG file at 2× through headless Chromium (a private profile, no network).
    private static func screenshot(_ chromium: String, svg: String, png: String, size: (width: Int, height: Int)) -> String? {
        let profile = NSTemporaryDirectory() + "meanfield-figure-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let absolute = URL(fileURLWithPath: svg).standardizedFileURL
        let problem = run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                     "--user-data-dir=\(profile)", "--force-device-scale-factor=2",
                                     "--window-size=\(size.width),\(size.height)", "--screenshot=\(URL(fileURLWithPath: png).standardizedFileURL.path)",
                                     absolute.absoluteString])
        return FileManager.default.fileExists(atPath: png) ? nil : (problem ?? "chromium wrote no screenshot")
    }
}
