import Foundation

// Temporary: the run-format module replaces these (docs/run-format.md).
extension RunDirectory {
    /// summary.json; NaN/Inf values are written as the strings "nan", "inf", "-inf".
    public func writeSummary(_ summary: RunSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try writeAtomically("summary.json", encoder.encode(summary))
    }

    public func writeConfusion(_ matrix: ConfusionMatrix) throws { try writeJSON("confusion.json", matrix) }

    public func appendMetrics(numbers: [String: Double], lists: [String: [Double]]) throws {
        try appendMetricsLine(TrainingMetrics.jsonLine(numbers, lists: lists))
    }
}

enum MetricsLine {
    /// The `"step"` of a metrics line, or nil.
    static func step(_ line: Substring) -> Int? {
        guard let range = line.range(of: "\"step\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    static func numbers(_ line: Substring) -> [String: Double] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
