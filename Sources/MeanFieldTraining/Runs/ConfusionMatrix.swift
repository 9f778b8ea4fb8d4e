import Foundation
import MeanFieldModels

/// A confusion matrix: `counts[true label][predicted label]` over one set of images (`set`:
/// "test" or "train"). An image run saves the test set's as `confusion.json` (docs/run-format.md).
public struct ConfusionMatrix: Codable, Sendable, Equatable {
    public var classNames: [String]
    public var counts: [[Int]]
    public var set: String

    public init(classNames: [String], set: String) {
        self.classNames = classNames
        self.counts = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
        self.set = set
    }

    enum CodingKeys: String, CodingKey {
        case classNames = "class_names", counts, set
    }

    /// Reads `class_names` (format 1: `classNames`, normalized by the reader), `counts` and `set`
    /// ("test" when absent); class names that do not match the rows are replaced by "class i".
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let counts = try container.decode([[Int]].self, forKey: .counts)
        guard counts.allSatisfy({ $0.count == counts.count }) else {
            throw DecodingError.dataCorruptedError(forKey: .counts, in: container, debugDescription: "counts is not a square matrix")
        }
        let names = try container.decodeIfPresent([String].self, forKey: .classNames) ?? []
        self.counts = counts
        classNames = names.count == counts.count ? names : counts.indices.map { "class \($0)" }
        set = try container.decodeIfPresent(String.self, forKey: .set) ?? "test"
    }

    public var accuracy: Double {
        let total = counts.joined().reduce(0, +)
        return total == 0 ? 0 : Double((0..<counts.count).reduce(0) { $0 + counts[$1][$1] }) / Double(total)
    }

    /// A plain-text table: rows are true classes, columns predictions.
    public var table: String {
        let width = max(5, counts.joined().map { String($0).count }.max() ?? 1) + 1
        let labels = classNames.map { String($0.prefix(12)) }
        let labelWidth = (labels.map(\.count).max() ?? 4) + 2
        func pad(_ text: String, _ count: Int) -> String { String(repeating: " ", count: max(0, count - text.count)) + text }
        var lines = [pad("true \\ predicted", labelWidth) + (0..<counts.count).map { pad(String($0), width) }.joined()]
        for (row, name) in labels.enumerated() {
            lines.append(pad("\(row) " + name, labelWidth) + counts[row].map { pad(String($0), width) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
