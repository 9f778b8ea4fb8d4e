/// A dataset file that is missing, truncated or corrupt, reported as one line that names the file,
/// the problem and what to do: `PATH: truncated: header declares … but the file holds …; FIX`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, as the word that starts the problem description.
    public enum Kind: String, Sendable {
        case missing = "not found"
        case unreadable = "cannot be read"
        case truncated
        case corruptCompression = "corrupt gzip stream"
        case badMagic = "bad magic number"
        case badHeader = "bad header"
        case tooLarge = "too large"
        case badLabel = "label out of range"
        case mismatch
        case unsupported
        case invalidRequest = "invalid request"
    }

    /// The file or folder concerned.
    public let path: String
    public let kind: Kind
    /// The details: what was expected and what was found.
    public let detail: String
    /// What the user can do about it.
    public let remedy: String

    public init(path: String, kind: Kind, detail: String, remedy: String) {
        self.path = path
        self.kind = kind
        self.detail = detail
        self.remedy = remedy
    }

    public var description: String { "\(path): \(kind.rawValue): \(detail); \(remedy)" }
}

extension DatasetError {
    /// The size of the dataset file at `path`, symbolic links followed (``InputPath/kind(_:)``); a
    /// missing file, or a folder, FIFO or device in its place, is refused by name before any read.
    static func regularFileSize(_ path: String, remedy: String) throws -> Int {
        switch InputPath.kind(path) {
        case .regular(let bytes): return bytes
        case .missing: throw DatasetError(path: path, kind: .missing, detail: "no such file", remedy: remedy)
        case .other(let what): throw DatasetError(path: path, kind: .unsupported, detail: "is \(what), not a regular file", remedy: remedy)
        case .unreadable(let reason): throw DatasetError(path: path, kind: .unreadable, detail: reason, remedy: remedy)
        }
    }
}

/// Limits that keep a corrupt header from making a reader allocate or loop over absurd sizes.
enum DatasetLimits {
    /// Largest payload a dataset file may declare or decompress to (2 GiB; CIFAR-100 train is 154 MB).
    static let maximumBytes = 1 << 31
    /// Largest image side a header may declare.
    static let maximumImageSide = 4096
}

/// `a·b·c…` with overflow and the `DatasetLimits.maximumBytes` cap checked; nil when out of range.
func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow, result <= DatasetLimits.maximumBytes else { return nil }
        product = result
    }
    return product
}
