import Foundation

/// The two CIFAR binary layouts (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
/// 2009; https://www.cs.toronto.edu/~kriz/cifar.html, "binary version").
///
/// A file is a sequence of records; a record is the label byte(s) followed by 3072 pixel bytes: the
/// 1024 red values of the 32×32 image row by row, then the 1024 green, then the 1024 blue, i.e. one
/// image `[3, 32, 32]` channel-major, exactly the layout of `Dataset.pixels`.
/// - CIFAR-10: 1 label byte (0…9); files `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`
///   (10,000 records each) in `cifar-10-batches-bin/`.
/// - CIFAR-100: 2 label bytes, coarse (0…19) then fine (0…99); files `train.bin` (50,000 records) and
///   `test.bin` (10,000) in `cifar-100-binary/`.
public enum CIFARFormat: Sendable {
    case cifar10, cifar100

    /// Bytes of labels before each image.
    public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
    public static let imageBytes = 3 * 32 * 32
    public var recordBytes: Int { labelBytes + Self.imageBytes }
    /// Classes of the label used for training (CIFAR-100: the fine label).
    public var classCount: Int { self == .cifar10 ? 10 : 100 }
    public var displayName: String { self == .cifar10 ? "CIFAR-10" : "CIFAR-100" }
}

/// The records of one CIFAR file.
public struct CIFARRecords: Sendable, Equatable {
    /// Class of each record (CIFAR-100: the fine label).
    public var labels: [Int]
    /// CIFAR-100 only: the superclass of each record (0…19).
    public var coarseLabels: [Int]?
    /// `[count, 3, 32, 32]`, row-major.
    public var pixels: [UInt8]
}

/// Reader of the CIFAR-10 and CIFAR-100 binary files (layout: `CIFARFormat`).
///
/// Checks, before reading the data: the file is not gzip-compressed (the official archive must be
/// extracted), its length is a whole number of records, and, when `expectedRecords` is given, the
/// record count; then every label is in range (a byte > 9 in a CIFAR-10 file means a corrupt file or a
/// CIFAR-100 file read as CIFAR-10).
public enum CIFARReader {
    public static func read(path: String, format: CIFARFormat, expectedRecords: Int? = nil,
                            remedy: String = "re-extract the file from the official binary archive or pass --data DIR") throws -> CIFARRecords {
        func fail(_ kind: DatasetError.Kind, _ detail: String) -> DatasetError {
            DatasetError(path: path, kind: kind, detail: detail, remedy: remedy)
        }
        let fileBytes = try DatasetError.regularFileSize(path, remedy: remedy)
        let recordBytes = format.recordBytes
        let expectedText = expectedRecords.map { " (\($0) records = \($0 * recordBytes) bytes expected)" } ?? ""
        guard fileBytes <= DatasetLimits.maximumBytes else {
            throw fail(.tooLarge, "\(fileBytes) bytes, more than any \(format.displayName) file\(expectedText)")
        }
        if GzipFile.hasGzipMagic(path) {
            throw DatasetError(path: path, kind: .unsupported,
                               detail: "is gzip-compressed; \(format.displayName) files are read uncompressed",
                               remedy: "extract the archive first (tar xzf \(format == .cifar10 ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz")) and pass --data with the extracted folder")
        }
        guard fileBytes > 0, fileBytes % recordBytes == 0 else {
            throw fail(.truncated, "the file holds \(fileBytes) bytes, not a whole number of \(recordBytes)-byte \(format.displayName) records\(expectedText)")
        }
        let count = fileBytes / recordBytes
        if let expectedRecords, count != expectedRecords {
            throw fail(count < expectedRecords ? .truncated : .mismatch,
                       "the file holds \(count) records (\(fileBytes) bytes) but the official file has \(expectedRecords) (\(expectedRecords * recordBytes) bytes)")
        }
        let contents: Data
        do { contents = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw fail(.unreadable, error.localizedDescription)
        }
        guard contents.count == fileBytes else {
            throw fail(.truncated, "the file changed while it was read (\(fileBytes) bytes, then \(contents.count))")
        }

        var labels = [Int](repeating: 0, count: count)
        var coarseLabels = format == .cifar100 ? [Int](repeating: 0, count: count) : nil
        var pixels = [UInt8](repeating: 0, count: count * CIFARFormat.imageBytes)
        var badLabel: (record: Int, value: UInt8, classes: Int, which: String)?
        contents.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let source = raw.bindMemory(to: UInt8.self)
            pixels.withUnsafeMutableBufferPointer { target in
                for record in 0..<count {
                    let start = record * recordBytes
                    let label: UInt8
                    if format == .cifar10 {
                        label = source[start]
                    } else {
                        let coarse = source[start]
                        if coarse >= 20, badLabel == nil { badLabel = (record, coarse, 20, "coarse label") }
                        coarseLabels?[record] = Int(coarse)
                        label = source[start + 1]
                    }
                    if Int(label) >= format.classCount, badLabel == nil {
                        badLabel = (record, label, format.classCount, format == .cifar10 ? "label" : "fine label")
                    }
                    labels[record] = Int(label)
                    let image = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(target)[record * CIFARFormat.imageBytes..<(record + 1) * CIFARFormat.imageBytes])
                    image.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(start + format.labelBytes)..<(start + recordBytes)]))
                }
            }
        }
        if let badLabel {
            let hint = format == .cifar10 && badLabel.value < 100 ? " (is this a CIFAR-100 file?)" : ""
            throw fail(.badLabel, "record \(badLabel.record) (byte offset \(badLabel.record * recordBytes)) has \(badLabel.which) \(badLabel.value), but \(format.displayName) has \(badLabel.classes) classes (0…\(badLabel.classes - 1))\(hint)")
        }
        return CIFARRecords(labels: labels, coarseLabels: coarseLabels, pixels: pixels)
    }
}
