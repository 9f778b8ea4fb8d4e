import Foundation

/// Text helpers shared by the SVG charts and the HTML page: escaping and compact number formatting.
public enum MarkupText {
    /// `text` with the five XML special characters escaped, safe inside SVG/HTML text and
    /// double- or single-quoted attributes.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0.
                if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
                   scalar.value < 0x20, scalar != "\t", scalar != "\n", scalar != "\r" {
                    result += "\u{FFFD}"
                } else {
                    result.append(character)
                }
            }
        }
        return result
    }

    /// A pixel coordinate with at most two decimals ("12.5", "300", "-0.25").
    static func coordinate(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded(), abs(rounded) < 1e9 { return String(Int(rounded)) }
        return String(rounded)
    }

    /// A measured value for tables and captions: integers as integers, otherwise four significant
    /// digits ("0.01234", "1.235e-07", "12350"); NaN and infinities spelled out.
    public static func number(_ value: Double, significantDigits: Int = 4) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "∞" : "−∞" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-4, magnitude < 1e6 {
            let decimals = max(0, significantDigits - 1 - Int(floor(log10(magnitude))))
            return trimZeros(String(format: "%.\(decimals)f", value))
        }
        return String(format: "%.\(significantDigits - 1)e", value)
            .replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
            .replacingOccurrences(of: "e+", with: "e")
    }

    /// "1.2300" → "1.23", "2.000" → "2".
    static func trimZeros(_ text: String) -> String {
        guard text.contains("."), !text.contains("e") else { return text }
        var trimmed = text
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed
    }

    /// The Unicode superscript of an integer: -4 → "⁻⁴".
    static func superscript(_ value: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        var result = value < 0 ? "⁻" : ""
        for digit in String(abs(value)) { result.append(digits[Int(String(digit))!]) }
        return result
    }
}
