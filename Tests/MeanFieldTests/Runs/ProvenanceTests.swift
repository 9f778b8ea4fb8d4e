// Provenance: the commit a run records is the one the binary was built from
// (Plugins/SourceCommitPlugin), never the current directory's. The binary is run from inside a
// fresh git repository with its own commit; the manifest, the checkpoint and --version must name
// this package's commit, as `git` reports it independently for the package directory.
import Foundation
import MeanField
import Testing

/// The package directory (this file is Tests/MeanFieldTests/Runs/ProvenanceTests.swift).
private let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs git with `arguments` in `directory`; its trimmed output, or nil when git fails or is missing.
private func git(_ arguments: [String], in directory: String) -> String? {
    toolOutput("git", ["-C", directory] + arguments)
}

/// The package's HEAD, by git itself: the commit this build should carry ("unknown" outside a checkout).
private let packageCommit: String = {
    guard let top = git(["rev-parse", "--show-toplevel"], in: packageDirectory),
          URL(fileURLWithPath: top).resolvingSymlinksInPath().path == URL(fileURLWithPath: packageDirectory).resolvingSymlinksInPath().path,
          let head = git(["rev-parse", "HEAD"], in: packageDirectory) else { return "unknown" }
    return head
}()

struct BuildProvenanceTests {
    @Test func theBuildRecordsThePackageCommit() {
        #expect(BuildProvenance.commit == packageCommit)
        // A known commit has a known tree state; an unknown one has none.
        #expect((BuildProvenance.treeModified == nil) == (packageCommit == "unknown"))
        #expect(MeanFieldVersion.versionLine.contains(BuildProvenance.commit))
        #expect(RunManifest.current(seed: 1, scalarType: "f32").gitCommit == packageCommit)
    }
}

@Suite(.enabled(if: meanfieldBinary != nil && git(["--version"], in: "/") != nil,
                "needs the meanfield binary (swift build --build-tests) and git"))
struct ProvenanceEndToEndTests {
    @Test func aRunInsideAnotherRepositoryRecordsTheBinarysCommit() throws {
        let folder = NSTemporaryDirectory() + "meanfield-provenance-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: folder) }
        // Another project, with a commit of its own.
        try "another project\n".write(toFile: folder + "/README", atomically: true, encoding: .utf8)
        let identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
        #expect(git(["init", "-q"], in: folder) != nil)
        #expect(git(["add", "README"], in: folder) != nil)
        #expect(git(identity + ["commit", "-q", "-m", "other"], in: folder) != nil)
        let otherCommit = try #require(git(["rev-parse", "HEAD"], in: folder))
        #expect(otherCommit != packageCommit && otherCommit.count == 40)

        let result = try meanfield(["train", "--steps", "2", "--heads", "2", "--ffn-units", "4", "--layers", "1", "--train-size", "0",
                                    "--batch-size", "4", "--checkpoint-every", "2", "--out", "run"], in: folder)
        #expect(result.status == 0, "\(result.output)")
        let manifest = try #require(try RunFolder.readManifest(in: folder + "/run"))
        #expect(manifest.gitCommit == packageCommit)
        #expect(manifest.gitCommit != otherCommit)
        #expect(manifest.sourceTreeModified == BuildProvenance.treeModified)
        let checkpoint = try SafeTensorsFile.read(path: folder + "/run/" + RunFormat.checkpointsFolder + "/" + TrainingCheckpoint<Float>.fileName(step: 2))
        #expect(checkpoint.metadata["git_commit"] == packageCommit)
        #expect(checkpoint.metadata["source_tree_modified"] == BuildProvenance.treeModified.map { String($0) } ?? "unknown")

        let version = try meanfield(["--version"], in: folder)
        #expect(version.status == 0 && version.output.contains(packageCommit) && !version.output.contains(otherCommit), "\(version.output)")
    }
}
