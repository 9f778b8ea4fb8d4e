import Foundation

/// What the emitted Slurm scripts need to know about the cluster and its filesystems: the largest
/// job array the site accepts (`MaxArraySize`), and which paths the compute nodes cannot see.
public enum SlurmSite {
    /// Slurm's own default `MaxArraySize` (array indices 0 … 1000), used when the site's is unknown.
    public static let defaultMaxArraySize = 1001

    /// `MaxArraySize` from `scontrol show config` when `scontrol` is on the PATH and answers, else nil.
    public static func maxArraySize() -> Int? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { $0 + "/scontrol" }.first(where: FileManager.default.isExecutableFile)
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["show", "config"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return maxArraySize(fromConfig: String(decoding: data, as: UTF8.self))
    }

    /// The `MaxArraySize = N` line of `scontrol show config` output.
    public static func maxArraySize(fromConfig text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "MaxArraySize", let value = Int(parts[1]), value > 0 { return value }
        }
        return nil
    }

    /// The runs 0 … count−1 cut into consecutive array jobs: indices of an array job must be below
    /// `maxArraySize`, so each holds at most that many runs (task i of chunk k runs run
    /// `chunk.lowerBound + i`).
    public static func chunks(count: Int, maxArraySize: Int) -> [Range<Int>] {
        let size = max(1, maxArraySize)
        return stride(from: 0, to: count, by: size).map { $0 ..< min(count, $0 + size) }
    }

    /// One warning per path (the binary, the sweep folder, the working directory) that compute
    /// nodes are unlikely to see or that changes under a running array: node-local folders
    /// (/tmp, /var/tmp, /dev/shm, /run) and SwiftPM build folders (`.build`).
    public static func nodeLocalWarnings(executable: String, sweepDirectory: String, workingDirectory: String) -> [String] {
        [("the meanfield binary", executable), ("the sweep folder", sweepDirectory), ("the working directory", workingDirectory)]
            .compactMap { what, path in
                if let local = ["/tmp", "/var/tmp", "/dev/shm", "/run"].first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                    return "\(what) \(path) is node-local (\(local)): compute nodes do not see it; use a shared filesystem (docs/cluster.md)"
                }
                if path.split(separator: "/").contains(".build") {
                    return "\(what) \(path) is inside a SwiftPM build folder (.build): a rebuild changes it under a running array and its binary needs the toolchain; copy scripts/build_cluster_binary.sh's binary to shared storage (docs/cluster.md)"
                }
                return nil
            }
    }
}
