import Foundation

/// A parsed JSON value, for reading run files whose keys vary between tasks (config.json,
/// manifest.json, summary.json, metrics lines, sweep.json, diagnostics.json).
public enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses `text`. The run writer spells ±∞ as ±1e999, which JSON decoders reject; those are
    /// read as infinities.
    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        if text.contains("1e999") {
            text = text.replacingOccurrences(of: "-1e999", with: "\"-inf\"").replacingOccurrences(of: "1e999", with: "\"inf\"")
        }
        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// The value as a number: numbers, numeric strings ("0.01", "inf"), booleans as 0/1; nil otherwise.
    /// `null` (how the writer spells NaN) is NaN.
    public var number: Double? {
        switch self {
        case .number(let value): return value
        case .null: return .nan
        case .string(let text):
            switch text {
            case "inf": return .infinity
            case "-inf": return -.infinity
            default: return Double(text)
            }
        case .bool(let value): return value ? 1 : 0
        default: return nil
        }
    }

    /// The value as a list of numbers (nil if it is not an array of numbers).
    public var numbers: [Double]? {
        guard case .array(let items) = self else { return nil }
        let values = items.compactMap(\.number)
        return values.count == items.count ? values : nil
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    public subscript(key: String) -> JSONValue? { object?[key] }

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
