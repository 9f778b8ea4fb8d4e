// Inputs are what they claim (InputPath): dataset files reached through symbolic links are read
// (their size is the target's, not the link's), and a FIFO, a device or a folder in place of a
// dataset or config file is refused by name at once (a FIFO without a writer would block a read).
import Foundation
@testable import MeanField
import Testing

/// The one-line message of the RunError `body` throws, or nil.
private func runError(_ body: () throws -> Void) -> String? {
    do { try body() } catch let error as RunError { return error.description } catch { return "\(error)" }
    return nil
}

@Suite struct InputPathTests {
    @Test func symlinkedIDXAndCIFARFilesReadLikeTheirTargets() throws {
        let folder = try TemporaryFolder("links")
        defer { folder.remove() }
        let pixels = (0..<(5 * 28 * 28)).map { UInt8($0 % 251) }
        let images = try folder.write("real/train-images-idx3-ubyte", DataFiles.idx(dimensions: [5, 28, 28], data: pixels))
        let gzipped = try folder.write("real/train-labels-idx1-ubyte.gz", try DataFiles.gzip(DataFiles.idx(dimensions: [5], data: [3, 1, 4, 1, 5])))
        let cifar = try folder.write("real/data_batch_1.bin", DataFiles.cifar(labels: [[7], [2]], pixels: { DataFiles.pattern($0) }))
        for (target, link) in [(images, "/images"), (gzipped, "/labels.gz"), (cifar, "/batch.bin")] {
            try FileManager.default.createSymbolicLink(atPath: folder.path + link, withDestinationPath: target)
        }
        // A link to a link, as dataset trees on clusters often are.
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/images2", withDestinationPath: folder.path + "/images")

        #expect(InputPath.kind(folder.path + "/images2") == .regular(bytes: 16 + pixels.count))
        #expect(try IDXReader.readImages(path: folder.path + "/images2").bytes == IDXReader.readImages(path: images).bytes)
        #expect(try IDXReader.readLabels(path: folder.path + "/labels.gz", classCount: 10) == [3, 1, 4, 1, 5])
        let records = try CIFARReader.read(path: folder.path + "/batch.bin", format: .cifar10, expectedRecords: 2)
        #expect(records.labels == [7, 2])
    }

    @Test func aFIFOADeviceAFolderOrADanglingLinkIsRefusedByNameWithoutBlocking() throws {
        let folder = try TemporaryFolder("special")
        defer { folder.remove() }
        let fifo = folder.path + "/train-images-idx3-ubyte"
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/dangling", withDestinationPath: folder.path + "/nothing")
        let started = Date()
        let cases: [(String, DatasetError.Kind, String)] = [
            (fifo, .unsupported, "is a FIFO (named pipe), not a regular file"),
            ("/dev/null", .unsupported, "is a character device, not a regular file"),
            (folder.path, .unsupported, "is a directory, not a regular file"),
            (folder.path + "/dangling", .missing, "no such file"),
        ]
        for (path, kind, detail) in cases {
            let idx = try #require(datasetError { _ = try IDXReader.readImages(path: path) })
            #expect(idx.kind == kind && idx.detail == detail && idx.path == path, "\(idx)")
            let cifar = try #require(datasetError { _ = try CIFARReader.read(path: path, format: .cifar10) })
            #expect(cifar.kind == kind && cifar.detail == detail, "\(cifar)")
        }
        #expect(throws: RunError.self) { _ = try ConfigFile.load(fifo + ".toml") }  // missing
        try FileManager.default.moveItem(atPath: fifo, toPath: fifo + ".toml")
        do {
            _ = try ConfigFile.load(fifo + ".toml")
            Issue.record("a FIFO was read as a config file")
        } catch let error as RunError {
            #expect(error.description == "--config \(fifo).toml: is a FIFO (named pipe), not a regular file; pass the file itself")
        }
        #expect(Date().timeIntervalSince(started) < 5, "a special file blocked a reader")
    }

    @Test func emptyAndRootFoldersAreRefused() throws {
        for (path, expected) in [("", "--out: expected a path, got ''"), ("  ", "--out: expected a path, got '  '"),
                                 ("/", "--out /: the root folder cannot be used; pass a folder of its own"),
                                 ("//./", "--out //./: the root folder cannot be used; pass a folder of its own")] {
            #expect(runError { try InputPath.checkFolder(path, flag: "--out") } == expected)
        }
        try InputPath.checkFolder("runs/a", flag: "--out")
        // A config file larger than ConfigFile.maximumBytes is refused before it is parsed.
        let folder = try TemporaryFolder("big-config")
        defer { folder.remove() }
        let big = try folder.write("big.toml", Array(repeating: UInt8(ascii: "#"), count: ConfigFile.maximumBytes + 1))
        #expect(runError { _ = try ConfigFile.load(big) }
                == "--config \(big): \(ConfigFile.maximumBytes + 1) bytes, more than the \(ConfigFile.maximumBytes) a config file may have; pass the config file itself")
    }
}
