// The dataset readers (Sources/MeanFieldModels/Data): IDX on the real Fashion-MNIST files and on written
// files (gzip and plain, truncated, corrupt, bad magic, absurd headers), CIFAR-10/100 on files written
// in the official layout (truncated, wrong label byte), and the messages of missing datasets.
import Foundation
@testable import MeanField
import Testing

private let fashionDirectory = "/usr/share/datasets/fashion-mnist"
private let fashionInstalled = FileManager.default.fileExists(atPath: fashionDirectory + "/train-images-idx3-ubyte.gz")

@Suite("DataTests: readers")
struct DataTestsReaders {
    @Test(.enabled(if: fashionInstalled,
                   "skipped: Fashion-MNIST is not installed at \(fashionDirectory) (apt install dataset-fashion-mnist; CI installs it)"))
    func realFashionMNISTHasSixtyThousandPlusTenThousandBalancedImages() throws {
        let splits = try DatasetLoader.load()  // the default: Fashion-MNIST from its Debian location
        #expect(splits.directory == fashionDirectory)
        for (split, count) in [(splits.train, 60_000), (splits.test, 10_000)] {
            #expect(split.count == count)
            #expect(split.imageShape == [1, 28, 28])
            #expect(split.pixels.count == count * 784)
            #expect(split.countsPerClass() == Array(repeating: count / 10, count: 10))
            #expect(split.classNames == ClassNames.fashionMNIST)
        }
        // Published statistics of the training pixels (scaled to [0, 1]).
        let normalization = ChannelNormalization.fitted(to: splits.train)
        #expect(abs(normalization.mean[0] - 0.2860) < 1e-3 && abs(normalization.standardDeviation[0] - 0.3530) < 1e-3,
                "mean \(normalization.mean), std \(normalization.standardDeviation)")
        #expect(splits.train.labels.prefix(5) == [9, 0, 0, 3, 0])  // the first training labels of the official file
    }

    @Test func idxReadsTheSameArrayFromGzipAndPlainFiles() throws {
        let folder = try TemporaryFolder("idx-roundtrip")
        defer { folder.remove() }
        let pixels = (0..<(5 * 3 * 4)).map { UInt8($0 * 4) }
        let file = DataFiles.idx(dimensions: [5, 3, 4], data: pixels)
        let plain = try folder.write("images-idx3-ubyte", file)
        let compressed = try folder.write("images-idx3-ubyte.gz", try DataFiles.gzip(file))
        for path in [plain, compressed] {
            let array = try IDXReader.readImages(path: path)
            #expect(array.dimensions == [5, 3, 4])
            #expect(array.bytes == pixels)
        }
        let labels = try folder.write("labels-idx1-ubyte.gz", try DataFiles.gzip(DataFiles.idx(dimensions: [5], data: [3, 1, 4, 1, 5])))
        #expect(try IDXReader.readLabels(path: labels, classCount: 10) == [3, 1, 4, 1, 5])
    }

    @Test func idxLoaderReadsAFolderOfPlainFilesGivenAsDataDirectory() throws {
        let folder = try TemporaryFolder("idx-folder")
        defer { folder.remove() }
        for (prefix, count) in [("train", 20), ("t10k", 10)] {
            try folder.write("\(prefix)-images-idx3-ubyte", DataFiles.idx(dimensions: [count, 2, 3], data: DataFiles.pattern(prefix.count, count: count * 6)))
            try folder.write("\(prefix)-labels-idx1-ubyte", DataFiles.idx(dimensions: [count], data: (0..<count).map { UInt8($0 % 10) }))
        }
        let splits = try DatasetLoader.load(dataDirectory: folder.path)
        #expect(splits.train.count == 20 && splits.test.count == 10)
        #expect(splits.train.imageShape == [1, 2, 3])
        #expect(DatasetName.detect(in: folder.path) == .fashionMNIST)
    }

    @Test func truncatedIDXNamesTheFileTheDeclaredAndTheRealSize() throws {
        let folder = try TemporaryFolder("idx-truncated")
        defer { folder.remove() }
        let file = DataFiles.idx(dimensions: [60_000, 28, 28], data: Array(repeating: 7, count: 1234 - 16))
        let plain = try folder.write("train-images-idx3-ubyte", file)
        let error = try #require(datasetError { _ = try IDXReader.readImages(path: plain, remedy: "re-install dataset-fashion-mnist or pass --data DIR") })
        #expect(error.kind == .truncated)
        #expect(error.description == "\(plain): truncated: header declares 60000 images of 28×28 (47040016 bytes) but the file holds 1234 bytes; re-install dataset-fashion-mnist or pass --data DIR")

        // The same content compressed: the short length is found after decompression.
        let compressed = try folder.write("train-images-idx3-ubyte.gz", try DataFiles.gzip(file))
        let compressedError = try #require(datasetError { _ = try IDXReader.readImages(path: compressed) })
        #expect(compressedError.kind == .truncated)
        #expect(compressedError.description.contains("the file decompresses to 1234 bytes"), "\(compressedError)")

        // Too many bytes is reported as well.
        let long = try folder.write("long-idx1-ubyte", DataFiles.idx(dimensions: [3], data: [1, 2, 3, 4]))
        #expect(try #require(datasetError { _ = try IDXReader.readLabels(path: long, classCount: 10) }).kind == .mismatch)
    }

    @Test func gzipStreamCutInTheMiddleIsTruncatedNotGarbage() throws {
        let folder = try TemporaryFolder("gzip-cut")
        defer { folder.remove() }
        let file = DataFiles.idx(dimensions: [200, 28, 28], data: DataFiles.pattern(1, count: 200 * 784))
        let compressed = try DataFiles.gzip(file)
        let path = try folder.write("cut-idx3-ubyte.gz", Array(compressed.prefix(compressed.count / 2)))
        let error = try #require(datasetError { _ = try IDXReader.readImages(path: path) })
        #expect(error.kind == .truncated, "\(error)")
        #expect(error.description.hasPrefix(path + ": truncated: "))
    }

    @Test func corruptGzipIsReportedWithZlibsMessage() throws {
        let folder = try TemporaryFolder("gzip-corrupt")
        defer { folder.remove() }
        var compressed = try DataFiles.gzip(DataFiles.idx(dimensions: [100, 28, 28], data: DataFiles.pattern(2, count: 78_400)))
        for offset in 12..<min(200, compressed.count - 8) { compressed[offset] ^= 0xA5 }  // damage the deflate data
        let path = try folder.write("corrupt-idx3-ubyte.gz", compressed)
        let error = try #require(datasetError { _ = try IDXReader.readImages(path: path) })
        #expect(error.kind == .corruptCompression || error.kind == .truncated || error.kind == .badMagic, "\(error)")
        #expect(error.description.hasPrefix(path + ": "))

        // A gzip header followed by bytes that are no deflate stream at all.
        let garbage = try folder.write("garbage.gz", [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3] + Array(repeating: 0xFF, count: 64))
        let garbageError = try #require(datasetError { _ = try IDXReader.readImages(path: garbage) })
        #expect(garbageError.kind == .corruptCompression, "\(garbageError)")
        #expect(garbageError.description.hasPrefix(garbage + ": corrupt gzip stream: invalid block type"), "\(garbageError)")
    }

    @Test func badMagicAndWrongRankAreRejected() throws {
        let folder = try TemporaryFolder("idx-magic")
        defer { folder.remove() }
        let png = try folder.write("image.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 40))
        let error = try #require(datasetError { _ = try IDXReader.readImages(path: png) })
        #expect(error.kind == .badMagic)
        #expect(error.description.contains("starts with 89 50 4e 47"), "\(error)")

        // A label file where images are expected.
        let labels = try folder.write("labels-idx1-ubyte", DataFiles.idx(dimensions: [4], data: [0, 1, 2, 3]))
        let rankError = try #require(datasetError { _ = try IDXReader.readImages(path: labels) })
        #expect(rankError.kind == .badMagic && rankError.description.contains("expected an image file"), "\(rankError)")

        // Float elements (type 0x0D) are not MNIST.
        let floats = try folder.write("floats-idx1-ubyte", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(try #require(datasetError { _ = try IDXReader.readLabels(path: floats, classCount: 10) }).kind == .unsupported)

        // Empty file and a file shorter than its header.
        let empty = try folder.write("empty-idx3-ubyte", [])
        #expect(try #require(datasetError { _ = try IDXReader.readImages(path: empty) }).kind == .truncated)
        let short = try folder.write("short-idx3-ubyte", [0, 0, 8, 3, 0, 0])
        #expect(try #require(datasetError { _ = try IDXReader.readImages(path: short) }).kind == .truncated)
    }

    @Test func absurdDeclaredSizesAreRejectedBeforeAnyAllocation() throws {
        let folder = try TemporaryFolder("idx-absurd")
        defer { folder.remove() }
        // 4,000,000,000 images of 28×28: ~3 TB declared, 20 bytes present.
        let huge = try folder.write("huge-idx3-ubyte.gz", try DataFiles.gzip(DataFiles.idx(dimensions: [4_000_000_000, 28, 28], data: [1, 2, 3, 4])))
        let error = try #require(datasetError { _ = try IDXReader.readImages(path: huge) })
        #expect(error.kind == .tooLarge, "\(error)")
        let wide = try folder.write("wide-idx3-ubyte", DataFiles.idx(dimensions: [1, 100_000, 28], data: []))
        #expect(try #require(datasetError { _ = try IDXReader.readImages(path: wide) }).kind == .badHeader)
        let zero = try folder.write("zero-idx3-ubyte", DataFiles.idx(dimensions: [10, 0, 28], data: []))
        #expect(try #require(datasetError { _ = try IDXReader.readImages(path: zero) }).kind == .badHeader)
        // A plausible header over a short gzip stream: reading stops at the real data.
        let short = try folder.write("short-idx3-ubyte.gz", try DataFiles.gzip(DataFiles.idx(dimensions: [2_000_000, 32, 32], data: [9])))
        #expect(try #require(datasetError { _ = try IDXReader.readImages(path: short) }).kind == .truncated)
    }

    @Test func idxLabelsOutOfRangeAndCountMismatchAreRejected() throws {
        let folder = try TemporaryFolder("idx-labels")
        defer { folder.remove() }
        let labels = try folder.write("labels-idx1-ubyte", DataFiles.idx(dimensions: [4], data: [0, 9, 12, 3]))
        let error = try #require(datasetError { _ = try IDXReader.readLabels(path: labels, classCount: 10) })
        #expect(error.kind == .badLabel && error.description.contains("label 2 is 12"), "\(error)")

        for (prefix, count) in [("train", 6), ("t10k", 4)] {
            try folder.write("\(prefix)-images-idx3-ubyte", DataFiles.idx(dimensions: [count, 2, 2], data: Array(repeating: 0, count: count * 4)))
            try folder.write("\(prefix)-labels-idx1-ubyte", DataFiles.idx(dimensions: [count + 1], data: Array(repeating: 1, count: count + 1)))
        }
        let mismatch = try #require(datasetError { _ = try DatasetLoader.load(.mnist, dataDirectory: folder.path) })
        #expect(mismatch.kind == .mismatch && mismatch.description.contains("7 labels for the 6 images"), "\(mismatch)")
    }

    @Test func missingDatasetsNameThePathsTriedAndTheFix() throws {
        let nowhere = NSTemporaryDirectory() + "meanfield-no-such-folder-\(getpid())"
        let error = try #require(datasetError { _ = try DatasetLoader.load(.fashionMNIST, dataDirectory: nowhere) })
        #expect(error.kind == .missing)
        #expect(error.description.contains(nowhere) && error.description.contains("apt install dataset-fashion-mnist")
                && error.description.contains("--data DIR"), "\(error)")
        #expect(!error.description.contains("\n"))

        let cifar = try #require(datasetError { _ = try DatasetLoader.load(.cifar10) })
        #expect(cifar.kind == .missing && cifar.description.contains("no --data DIR given")
                && cifar.description.contains("cifar-10-binary.tar.gz"), "\(cifar)")
    }

    // MARK: CIFAR

    /// Writes CIFAR-10 in the official layout: `cifar-10-batches-bin/data_batch_{1…5}.bin`, `test_batch.bin`.
    private func writeCIFAR10(in folder: TemporaryFolder, recordsPerFile: Int) throws {
        for (fileIndex, name) in (DatasetLoader.cifarFiles(.cifar10).train + ["test_batch.bin"]).enumerated() {
            let labels = (0..<recordsPerFile).map { [UInt8(($0 + fileIndex) % 10)] }
            try folder.write("cifar-10-batches-bin/\(name)",
                             DataFiles.cifar(labels: labels) { DataFiles.pattern($0 + 100 * fileIndex) })
        }
    }

    @Test func cifar10ReadsTheOfficialLayout() throws {
        let folder = try TemporaryFolder("cifar10")
        defer { folder.remove() }
        try writeCIFAR10(in: folder, recordsPerFile: 3)
        #expect(DatasetName.detect(in: folder.path) == .cifar10)
        let splits = try DatasetLoader.loadCIFAR(.cifar10, directory: folder.path + "/cifar-10-batches-bin", requireOfficialCounts: false)
        #expect(splits.train.count == 15 && splits.test.count == 3)
        #expect(splits.train.imageShape == [3, 32, 32])
        #expect(splits.train.classNames == ClassNames.cifar10)
        #expect(splits.train.labels == (0..<5).flatMap { file in (0..<3).map { ($0 + file) % 10 } })
        // Record 1 of data_batch_2 (file 1) is training image 4; its bytes are the image as stored (R, G, B planes).
        #expect(Array(splits.train.image(4)) == DataFiles.pattern(1 + 100))
        #expect(Array(splits.test.image(2)) == DataFiles.pattern(2 + 500))

        // Through the loader (given the parent folder), the official record counts are enforced.
        let error = try #require(datasetError { _ = try DatasetLoader.load(.cifar10, dataDirectory: folder.path) })
        #expect(error.kind == .truncated)
        #expect(error.description.contains("data_batch_1.bin: truncated: the file holds 3 records (9219 bytes) but the official file has 10000 (30730000 bytes)"), "\(error)")
    }

    @Test func cifar10TruncatedFileAndWrongLabelByteGiveClearErrors() throws {
        let folder = try TemporaryFolder("cifar10-bad")
        defer { folder.remove() }
        let records = DataFiles.cifar(labels: [[1], [2], [3]]) { DataFiles.pattern($0) }
        let truncated = try folder.write("data_batch_1.bin", Array(records.prefix(2 * 3073 + 1000)))
        let error = try #require(datasetError { _ = try CIFARReader.read(path: truncated, format: .cifar10, expectedRecords: 10_000) })
        #expect(error.kind == .truncated)
        #expect(error.description.hasPrefix("\(truncated): truncated: the file holds 7146 bytes, not a whole number of 3073-byte CIFAR-10 records"), "\(error)")

        let wrongLabel = try folder.write("data_batch_2.bin", DataFiles.cifar(labels: [[1], [9], [10]]) { DataFiles.pattern($0) })
        let labelError = try #require(datasetError { _ = try CIFARReader.read(path: wrongLabel, format: .cifar10) })
        #expect(labelError.kind == .badLabel)
        #expect(labelError.description.contains("record 2 (byte offset 6146) has label 10, but CIFAR-10 has 10 classes (0…9)"), "\(labelError)")

        let compressed = try folder.write("test_batch.bin", try DataFiles.gzip(records))
        let gzipError = try #require(datasetError { _ = try CIFARReader.read(path: compressed, format: .cifar10) })
        #expect(gzipError.kind == .unsupported && gzipError.description.contains("tar xzf cifar-10-binary.tar.gz"), "\(gzipError)")

        let empty = try folder.write("data_batch_3.bin", [])
        #expect(try #require(datasetError { _ = try CIFARReader.read(path: empty, format: .cifar10) }).kind == .truncated)
    }

    @Test func cifar100ReadsCoarseAndFineLabelsAndChecksBoth() throws {
        let folder = try TemporaryFolder("cifar100")
        defer { folder.remove() }
        let train = DataFiles.cifar(labels: [[0, 99], [19, 5], [7, 42]]) { DataFiles.pattern($0) }
        try folder.write("cifar-100-binary/train.bin", train)
        try folder.write("cifar-100-binary/test.bin", DataFiles.cifar(labels: [[3, 3]]) { DataFiles.pattern($0 + 9) })
        #expect(DatasetName.detect(in: folder.path) == .cifar100)
        let splits = try DatasetLoader.loadCIFAR(.cifar100, directory: folder.path + "/cifar-100-binary", requireOfficialCounts: false)
        #expect(splits.train.labels == [99, 5, 42])
        #expect(splits.train.coarseLabels == [0, 19, 7])
        #expect(splits.train.classCount == 100 && ClassNames.cifar100Coarse.count == 20)
        #expect(splits.train.classNames[99] == "worm")
        #expect(Array(splits.test.image(0)) == DataFiles.pattern(9))

        let badFine = try folder.write("bad-fine.bin", DataFiles.cifar(labels: [[1, 2], [1, 100]]) { DataFiles.pattern($0) })
        let fineError = try #require(datasetError { _ = try CIFARReader.read(path: badFine, format: .cifar100) })
        #expect(fineError.kind == .badLabel && fineError.description.contains("record 1 (byte offset 3074) has fine label 100"), "\(fineError)")
        let badCoarse = try folder.write("bad-coarse.bin", DataFiles.cifar(labels: [[20, 2]]) { DataFiles.pattern($0) })
        let coarseError = try #require(datasetError { _ = try CIFARReader.read(path: badCoarse, format: .cifar100) })
        #expect(coarseError.kind == .badLabel && coarseError.description.contains("coarse label 20"), "\(coarseError)")
        // A CIFAR-10 file read as CIFAR-100: 3073-byte records do not divide the length.
        let cifar10 = try folder.write("cifar10.bin", DataFiles.cifar(labels: [[1], [2]]) { DataFiles.pattern($0) })
        #expect(try #require(datasetError { _ = try CIFARReader.read(path: cifar10, format: .cifar100) }).kind == .truncated)
    }
}
