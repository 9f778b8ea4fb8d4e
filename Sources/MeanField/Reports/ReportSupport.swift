import Foundation

/// Small helpers shared by the run and sweep reports.
enum ReportSupport {
    /// Log₁₀ when every usable value is positive and they span more than a factor of 20, else linear.
    static func scale(for values: [Double]) -> AxisScale {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), low > 0 else { return .linear }
        return high / low > 20 ? .log10 : .linear
    }

    /// "(log scale)" for captions.
    static func scaleNote(_ scale: AxisScale) -> String { scale == .log10 ? " (log scale)" : "" }

    /// `count` indices spread evenly over `0..<total`, always including the first and the last.
    static func evenlySpaced(_ total: Int, count: Int) -> [Int] {
        guard total > count else { return Array(0..<total) }
        guard count > 1 else { return [0] }
        return (0..<count).map { Int((Double($0) * Double(total - 1) / Double(count - 1)).rounded()) }
            .reduce(into: [Int]()) { if $0.last != $1 { $0.append($1) } }
    }

    /// The mean of the finite values (NaN if none).
    static func mean(_ values: [Double]) -> Double {
        let finite = values.filter(\.isFinite)
        return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
    }

    /// A flag's values sorted numerically when they are numbers, else as text.
    static func sortedValues(_ values: [String]) -> [String] {
        let unique = Array(Set(values))
        if unique.allSatisfy({ Double($0) != nil }) { return unique.sorted { Double($0)! < Double($1)! } }
        return unique.sorted()
    }

    /// The short symbol of a train flag in legends: heads → M, layers → L, weight-decay → λ, lr → η.
    static func symbol(_ flag: String) -> String {
        switch flag {
        case "heads": return "M"
        case "layers": return "L"
        case "ffn-units": return "M′"
        case "weight-decay": return "λ"
        case "lr": return "η"
        case "seed": return "seed"
        default: return flag
        }
    }

    /// The legend text of a fitted slope: "fit: slope −0.49 (95% CI −0.55 … −0.43)".
    static func slopeLabel(_ prefix: String, slope: Double, confidence: [Double]) -> String {
        var text = "\(prefix)slope \(signed(slope))"
        if confidence.count == 2 { text += " (95% CI \(signed(confidence[0])) … \(signed(confidence[1])))" }
        return text
    }

    /// A number with a true minus sign and 3 significant digits.
    static func signed(_ value: Double) -> String {
        MarkupText.number(value, significantDigits: 3).replacingOccurrences(of: "-", with: "−")
    }
}

extension JSONValue {
    /// The value as people read it in a table: numbers without a spurious ".0", lists joined
    /// with spaces, strings as they are.
    public var displayText: String {
        switch self {
        case .null: return "—"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value): return MarkupText.number(value, significantDigits: 6)
        case .string(let text): return text
        case .array(let items): return items.map(\.displayText).joined(separator: " ")
        case .object(let fields): return fields.keys.sorted().map { "\($0): \(fields[$0]!.displayText)" }.joined(separator: ", ")
        }
    }
}

extension RunManifest {
    /// The provenance facts of a manifest as (label, text), in display order.
    var provenance: [(label: String, text: String)] {
        let tree = sourceTreeModified.map { $0 ? " (built from a modified tree)" : " (clean tree)" } ?? ""
        return [("git commit", gitCommit + tree), ("meanfield version", meanfieldVersion), ("Swift", swiftVersion), ("scalar type", scalarType),
         ("threads", String(threads)), ("CPU", cpu), ("GEMM backend", gemmBackend), ("OS", operatingSystem), ("started at", startedAt),
         ("command", command.joined(separator: " ")), ("run format", String(runFormat ?? 1))]
    }
}

extension RunSummary {
    /// The summary as (key, text) rows, keys as summary.json spells them ("final.R" for a metric).
    var displayRows: [(String, String)] {
        func number(_ value: Double) -> String { MarkupText.number(value, significantDigits: 6) }
        var rows: [(String, String)] = [("status", status), ("task", task), ("total_steps", String(totalSteps)),
                                        ("completed_steps", String(completedSteps)), ("mean_field_time", number(meanFieldTime))]
        if let stepsPerEpoch { rows.append(("steps_per_epoch", String(stepsPerEpoch))) }
        if let resumedFromStep { rows.append(("resumed_from_step", String(resumedFromStep))) }
        rows += initial.keys.sorted().map { ("initial.\($0)", number(initial[$0]!)) }
        rows += final.keys.sorted().map { ("final.\($0)", number(final[$0]!)) }
        rows += [("wall_seconds", number(wallSeconds)), ("seconds_per_step", number(secondsPerStep))]
        if let peakMemoryBytes { rows.append(("peak_memory_bytes", number(peakMemoryBytes))) }
        if let lastCheckpoint { rows.append(("last_checkpoint", lastCheckpoint)) }
        if let message { rows.append(("message", message)) }
        return rows
    }
}
