// Test helpers for the dataset readers: files written in the official layouts (IDX, CIFAR binary) into
// a temporary folder, gzip through the system zlib, and small synthetic datasets.
import CZlib
import Foundation
@testable import MeanField

/// A fresh temporary folder, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init(_ name: String) throws {
        path = NSTemporaryDirectory() + "meanfield-data-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` inside the folder (creating subfolders) and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

enum DataFiles {
    /// An IDX file of unsigned bytes: magic 00 00 08 rank, big-endian dimensions, data.
    static func idx(dimensions: [Int], data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for dimension in dimensions {
            bytes += [UInt8(dimension >> 24 & 0xFF), UInt8(dimension >> 16 & 0xFF), UInt8(dimension >> 8 & 0xFF), UInt8(dimension & 0xFF)]
        }
        return bytes + data
    }

    /// `bytes` gzip-compressed (through zlib's gz* functions, as `gzip` writes them).
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "meanfield-gzip-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).gz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let file = gzopen(path, "wb") else { throw RunError("gzopen failed") }
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
        guard written == bytes.count else { throw RunError("gzwrite wrote \(written) of \(bytes.count)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// CIFAR records: per image its label byte(s) then 3072 pixel bytes.
    static func cifar(labels: [[UInt8]], pixels: (Int) -> [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (record, label) in labels.enumerated() {
            bytes += label
            bytes += pixels(record)
        }
        return bytes
    }

    /// Deterministic pixel bytes for record `record` of a test file.
    static func pattern(_ record: Int, count: Int = 3072) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ record &* 31) }
    }
}

enum SyntheticData {
    /// `count` images `[channels, height, width]` with labels `i % classes` (or `labels`), pixels
    /// from a simple hash.
    static func dataset(count: Int, classes: Int = 10, channels: Int = 1, height: Int = 4, width: Int = 5,
                        labels: [Int]? = nil) -> Dataset {
        let size = channels * height * width
        let pixels = (0..<count * size).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 7) }
        return Dataset(name: "synthetic", channels: channels, height: height, width: width, pixels: pixels,
                       labels: labels ?? (0..<count).map { $0 % classes },
                       classNames: (0..<classes).map { "class \($0)" })
    }
}

/// The `DatasetError` thrown by `body`, or nil (with the other error) when it threw something else.
func datasetError(_ body: () throws -> Void) -> DatasetError? {
    do { try body() } catch let error as DatasetError { return error } catch { return nil }
    return nil
}
