// A full disk must not lose a run. A small tmpfs (mounting needs root, as on CI; skipped otherwise)
// holds the run folder: a run whose checkpoints cannot fit is refused before training, and a disk
// that fills up during a run stops it with an error while every checkpoint already written stays
// readable and no temporary file is left behind.
import Foundation
@testable import MeanField
import Testing

/// A tmpfs of `kibibytes` mounted at a fresh folder, or nil when mounting is not permitted.
private func mountSmallDisk(_ name: String, kibibytes: Int) -> String? {
    let folder = NSTemporaryDirectory() + "meanfield-disk-\(name)-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", "size=\(kibibytes)k", "tmpfs", folder]
    mount.standardError = FileHandle.nullDevice
    guard (try? mount.run()) != nil else { return nil }
    mount.waitUntilExit()
    return mount.terminationStatus == 0 ? folder : nil
}

private func unmount(_ folder: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/umount")
    process.arguments = [folder]
    try? process.run()
    process.waitUntilExit()
    try? FileManager.default.removeItem(atPath: folder)
}

private let canMount: Bool = {
    guard meanfieldBinary != nil, let folder = mountSmallDisk("probe", kibibytes: 64) else { return false }
    unmount(folder)
    return true
}()

@Suite(.serialized, .enabled(if: canMount, "needs the meanfield binary and permission to mount a tmpfs (root)"))
struct DiskFullTests {
    private let flags = ["train", "--heads", "16", "--token-dim", "16", "--layers", "4", "--threads", "1"]

    @Test func aRunWhoseCheckpointsCannotFitIsRefusedBeforeTraining() throws {
        let disk = try #require(mountSmallDisk("refuse", kibibytes: 512))
        defer { unmount(disk) }
        let result = try meanfield(flags + ["--steps", "1000", "--checkpoint-every", "10", "--out", disk + "/run"])
        #expect(result.status == 1)
        #expect(result.output.contains("checkpoints of about") && result.output.contains("free"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: disk + "/run/metrics.jsonl"), "training started")
    }

    @Test func aDiskThatFillsUpStopsTheRunKeepingItsCheckpoints() throws {
        let disk = try #require(mountSmallDisk("fill", kibibytes: 16384))
        defer { unmount(disk) }
        let run = disk + "/run"
        let process = try startMeanfield(flags + ["--steps", "4000", "--checkpoint-every", "200", "--log-every", "1", "--out", run])
        // Once the first checkpoints exist, fill the disk (a loaded machine may take a minute to get there).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, TrainingCheckpoint<Float>.all(in: run + "/checkpoints").count < 2 { usleep(5_000) }
        let filler = FileManager.default.createFile(atPath: disk + "/filler", contents: nil)
        #expect(filler)
        if let handle = FileHandle(forWritingAtPath: disk + "/filler") {
            let block = Data(count: 64 * 1024)
            while (try? handle.write(contentsOf: block)) != nil {}
            try? handle.close()
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "the run did not stop on the full disk")
        let checkpoints = TrainingCheckpoint<Float>.all(in: run + "/checkpoints")
        #expect(checkpoints.count >= 2)
        for checkpoint in checkpoints { _ = try TrainingCheckpoint<Float>.read(path: checkpoint.path) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }
}
