import Foundation
import MeanFieldModels

/// A live progress line on standard error: step, loss, rate and ETA. On a terminal it redraws one
/// line (carriage return); otherwise (CI logs, files) it prints a new line every few seconds.
public final class ProgressLine {
    private let total: Int
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0
    private let interval: TimeInterval

    private let first: Int

    /// `start`: the step the run starts from (a resumed run), so the rate counts this session's steps only.
    public init(total: Int, start: Int = 0) {
        self.total = total
        self.first = start
        self.interval = isatty(STDERR_FILENO) != 0 ? 0.1 : 5
    }

    /// Reports that `completed` of `total` steps are done; `fields` are shown after the counter.
    public func update(completed: Int, fields: String) {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= interval || completed == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(completed - first) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - completed) / rate : 0
        let line = "step \(completed)/\(total)  \(fields)  \(String(format: "%.1f", rate)) steps/s  elapsed \(Self.clock(elapsed))  ETA \(Self.clock(remaining))"
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    /// Ends the line (on a terminal).
    public func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    package static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
