import Foundation

/// `meanfield report DIR`: decides whether DIR is a run or a sweep, builds the page and writes it.
public enum ReportBuilder {
    /// What the report covered.
    public enum Kind: String, Sendable { case run, sweep }

    /// The page for the run or sweep directory at `path` (one-line errors for anything else).
    public static func page(for path: String, particleLayer: Int = 0) throws -> (kind: Kind, page: HTMLPage, warnings: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("\(path): no such directory; pass a run directory (meanfield train --out) or a sweep directory (meanfield sweep --out)")
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if SweepRecords.isSweep(trimmed) {
            let sweep = try SweepRecords.load(path: trimmed)
            return (.sweep, SweepReport.page(sweep), sweep.problems)
        }
        if NTKCheckReport.isNTKCheck(trimmed) { return (.run, try NTKCheckReport.page(path: trimmed), []) }
        if RFFKernelReport.isRFFKernel(trimmed) { return (.run, try RFFKernelReport.page(path: trimmed), []) }
        if VarProReport.isVarProRun(trimmed) { return (.run, try VarProReport.page(path: trimmed), []) }
        if AdjointReport.isAdjointCheck(trimmed) { return (.run, try AdjointReport.page(path: trimmed), []) }
        if RunFolder.isRun(trimmed) {
            let run = try RunRecord(path: trimmed)
            return (.run, RunReport.page(run, particleLayer: particleLayer), [])
        }
        throw RunError("\(path) is neither a run directory (no metrics.jsonl or config.json) nor a sweep directory (no sweep.json)")
    }

    /// Builds the report of `path` and writes it to `output` (default `path/report.html`), and with
    /// `figures` each figure on its own into that folder (``FigureExport``); returns the file
    /// written, the kind, any warnings (runs of a sweep that could not be read, a figure converter
    /// missing) and what the figure export wrote.
    @discardableResult
    public static func write(path: String, output: String? = nil, particleLayer: Int = 0, figures: String? = nil) throws
        -> (file: String, kind: Kind, warnings: [String], figures: FigureExport.Result?) {
        let report = try page(for: path, particleLayer: particleLayer)
        let file = output ?? (path.hasSuffix("/") ? path : path + "/") + "report.html"
        do {
            try Data(report.page.render().utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw RunError("cannot write \(file): \(error.localizedDescription); pass a writable --out")
        }
        let exported = try figures.map { try FigureExport.write(report.page, to: $0) }
        return (file, report.kind, report.warnings + (exported?.warnings ?? []), exported)
    }
}
