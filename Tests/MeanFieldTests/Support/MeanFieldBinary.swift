// The `meanfield` executable built next to the test bundle (`swift build --build-tests` builds it),
// or $MEANFIELD_BINARY: end-to-end tests run the real binary; without one they are skipped.
import Foundation

/// The `meanfield` executable of this build, if there is one.
let meanfieldBinary: String? = {
    let manager = FileManager.default
    if let path = ProcessInfo.processInfo.environment["MEANFIELD_BINARY"], manager.isExecutableFile(atPath: path) { return path }
    var folders: [URL] = []
    if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
    folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for folder in folders {
        // Linux: debug/MeanFieldPackageTests.xctest next to debug/meanfield; macOS: inside the .xctest bundle.
        for candidate in [folder, folder.deletingLastPathComponent(), folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("meanfield").path
            if manager.isExecutableFile(atPath: path) { return path }
        }
    }
    return nil
}()

/// Runs the binary to the end (in `directory`, else in the test's current directory); returns its
/// exit status and its output (stdout and stderr together).
func meanfield(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Starts the binary in the background, its output discarded (tests that signal or kill it).
func startMeanfield(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Waits (at most `limit` seconds) until `condition` holds; returns whether it did.
@discardableResult
func wait(upTo limit: Double, for condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(limit)
    while !condition() {
        if Date() > deadline { return false }
        usleep(5_000)
    }
    return true
}

/// The live processes (Linux /proc) whose environment holds `entry` ("NAME=value"): how the tests
/// find processes they did not start themselves (a sweep's runs, an MPI job's ranks).
func processes(withEnvironment entry: String) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard let environ = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) else { return false }
        return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == entry }
    }
}
