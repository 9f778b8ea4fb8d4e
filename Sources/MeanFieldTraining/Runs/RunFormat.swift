import Foundation
import MeanFieldModels

/// The run-folder format (docs/run-format.md): file names, the format version, and the one JSON
/// spelling every run file uses. ``RunDirectory`` is the only writer and ``RunRecord`` /
/// ``RunFolder`` the only readers of these files; nothing else opens them by name.
///
/// - Keys: snake_case in every JSON file (`total_steps`, `ffn_units`, `scalar_type`). Metric names
///   are names, kept as they are (`R`, `eval_R`, `train_acc`).
/// - Numbers: shortest round-trip decimal; integers without ".0"; ±∞ and NaN as the strings
///   `"inf"`, `"-inf"`, `"nan"` (strict JSON; Python's `float()` reads them). Readers also accept
///   the format-1 spellings `1e999`, `-1e999` and `null`.
public enum RunFormat {
    /// The version this build writes (`run_format` in manifest.json) and the newest it reads.
    /// 1: before docs/run-format.md (no `run_format` key; camelCase manifest and summary, kebab-case
    /// config, ±1e999/null in metrics). 2: this format.
    public static let version = 2

    public static let configFile = "config.json"
    public static let manifestFile = "manifest.json"
    public static let metricsFile = "metrics.jsonl"
    public static let summaryFile = "summary.json"
    public static let confusionFile = "confusion.json"
    /// Written into a sweep folder (next to sweep.json), not into a run folder.
    public static let diagnosticsFile = "diagnostics.json"
    public static let checkpointsFolder = "checkpoints"
    /// TensorBoard's events files (``TensorBoardLog``), one per training session.
    public static let tensorboardFolder = "tensorboard"
    /// The start of every events file's name: `events.out.tfevents.<unix time>.<host>`.
    public static let eventsFilePrefix = "events.out.tfevents."

    // MARK: Keys

    /// A key in the file spelling: `-` → `_`, and camelCase → snake_case (`meanFieldTime` →
    /// `mean_field_time`, `activationRMS` → `activation_rms`). Keys already in snake_case, and
    /// names such as `R`, `eval_R`, `final_Q`, are unchanged: an underscore is inserted only where
    /// a lower-case letter or digit is followed by an upper-case one.
    public static func snakeCase(_ key: String) -> String {
        var result = ""
        var previous: Character?
        var inUpperRun = false
        for character in key {
            if character == "-" {
                result.append("_")
                inUpperRun = false
            } else if character.isUppercase, let last = previous, last.isLowercase || last.isNumber {
                result.append("_")
                result.append(contentsOf: character.lowercased())
                inUpperRun = true
            } else if character.isUppercase, inUpperRun {
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
                inUpperRun = false
            }
            previous = character
        }
        return result
    }

    /// The inverse for types whose Swift names are camelCase (``snakeCase(_:)`` of the Swift name):
    /// `scalar_type` → `scalarType`. A key without `_` (a format-1 camelCase key) is unchanged.
    public static func camelCase(_ key: String) -> String {
        guard key.contains("_") else { return key }
        var result = ""
        var upperNext = false
        for character in key {
            if character == "_" {
                upperNext = !result.isEmpty
                if result.isEmpty { result.append(character) }
            } else if upperNext {
                result.append(contentsOf: character.uppercased())
                upperNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    // MARK: JSON coding

    /// The encoder of every JSON run file: pretty, sorted keys, snake_case keys, ±∞/NaN as strings,
    /// slashes unescaped. (Dictionary keys, such as the metric names of a summary, are data and
    /// are written as they are.)
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .custom { path in Key(stringValue: snakeCase(path.last!.stringValue)) }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// The decoder of the run files. `convertingKeys`: for types whose coding keys are their
    /// camelCase Swift names (experiment configs): a snake_case key in the file is matched to the
    /// camelCase name, and a format-1 camelCase key still matches. Types that spell their keys in
    /// snake_case themselves (``RunSummary``, ``RunManifest``, ``DiagnosticsReport``) decode without.
    public static func decoder(convertingKeys: Bool = false) -> JSONDecoder {
        let decoder = JSONDecoder()
        if convertingKeys {
            decoder.keyDecodingStrategy = .custom { path in Key(stringValue: camelCase(path.last!.stringValue)) }
        }
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Decodes `data` (the file `file`, for the error) as `T`, after spelling the keys of its
    /// top-level object in snake_case (format-1 files: `gitCommit`, `classNames`) and the format-1
    /// ±1e999 as strings. One-line error naming the file.
    package static func decodeObject<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        guard case .object(let fields) = try parse(data, file: file) else {
            throw RunError("\(file): not a JSON object (corrupt or truncated file)")
        }
        let normalized = JSONValue.object(Dictionary(fields.map { (snakeCase($0.key), $0.value) }, uniquingKeysWith: { new, _ in new }))
        do {
            return try decoder().decode(T.self, from: encoder().encode(normalized))
        } catch {
            throw RunError("\(file): \(describe(error))")
        }
    }

    /// Parses a JSON file (format-1 ±1e999 accepted); one-line error naming the file.
    package static func parse(_ data: Data, file: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw RunError("\(file): not valid JSON (corrupt or truncated file)")
        }
    }

    /// A decoding error in one line: which key is missing or has the wrong type.
    package static func describe(_ error: Error) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            let at = path(context.codingPath)
            return "missing key '\(at.isEmpty ? "" : at + ".")\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "key '\(path(context.codingPath))' has the wrong type"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON (\(path(context.codingPath)))"
        default:
            return "\(error)"
        }
    }

    // MARK: Numbers

    /// A number as written in a JSON run file: integers (|x| < 10¹⁵) without ".0", other values
    /// in Swift's shortest round-trip form, and ±∞/NaN as the strings "inf", "-inf", "nan".
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "\"nan\"" }
        if value.isInfinite { return value > 0 ? "\"inf\"" : "\"-inf\"" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// One metrics.jsonl record: a JSON object on one line, keys sorted, numbers as ``number(_:)``.
    public static func metricsLine(numbers: [String: Double], lists: [String: [Double]] = [:]) -> String {
        var fields: [(String, String)] = numbers.map { ($0.key, number($0.value)) }
        fields += lists.map { ($0.key, "[" + $0.value.map(number).joined(separator: ",") + "]") }
        return "{" + fields.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
