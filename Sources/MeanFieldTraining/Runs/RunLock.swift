#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MeanFieldModels

/// One writer per folder: an OS-level lock (flock(2), exclusive) on `DIR/.lock`, held by a run (or a
/// sweep) for its whole life. A second writer is refused at once, with one line naming the holder
/// (its pid, command and start, which the holder writes into the lock file after locking) and the fix.
///
/// The lock belongs to the open file, not to the file's contents: the kernel drops it when the
/// holder closes it or dies, SIGKILL included, so a lock file left by a killed process never blocks.
/// The file is opened with O_CLOEXEC, so child processes (a sweep's runs, `git`) never inherit it.
/// The file itself stays (deleting it would let two writers lock two different files); its contents
/// are cleared on release. Released by ``release()`` or when the object is deallocated.
///
/// flock locks are per open file: a second `acquire` of the same folder in the same process is
/// refused too. On NFS, Linux emulates flock with POSIX byte-range locks, which the server keeps.
public final class RunLock {
    /// The locked folder, as given.
    public let directory: String
    /// `directory/.lock`.
    public let path: String
    private var descriptor: Int32

    /// The lock file's name inside the folder.
    public static let fileName = ".lock"

    /// Who holds a folder's lock, as written in the lock file (JSON: `pid`, `host`, `purpose`,
    /// `command`, `started`). Any field may be missing when the holder has not written it yet.
    public struct Holder: Equatable, Sendable, CustomStringConvertible {
        public var pid: Int32?
        public var host: String?
        public var purpose: String?
        public var command: String?
        /// ISO 8601, UTC.
        public var started: String?

        /// "pid 1234 (meanfield train --out runs/a, started 2025-01-01T10:00:00Z)".
        public var description: String {
            var details: [String] = []
            if let command, !command.isEmpty { details.append(command) }
            if let started { details.append("started " + started) }
            if let host, host != RunLock.hostName() { details.append("on host " + host) }
            let who = pid.map { "pid \($0)" } ?? "another process"
            return details.isEmpty ? who : who + " (" + details.joined(separator: ", ") + ")"
        }
    }

    private init(directory: String, path: String, descriptor: Int32) {
        self.directory = directory
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Locks `directory` (created if missing, unless `creatingDirectory` is false) for this process,
    /// or throws a one-line ``RunError`` naming the holder. `purpose` (e.g. "meanfield train") is
    /// recorded for the message other writers get. A writer that holds the lock keeps it; a
    /// momentary holder (``holder(of:)`` probing it) is waited out for up to `patience` seconds.
    public static func acquire(directory: String, purpose: String, creatingDirectory: Bool = true,
                               patience: TimeInterval = 0.5) throws -> RunLock {
        if creatingDirectory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw RunError("cannot create \(directory): \(error.localizedDescription); pass a writable folder")
            }
        } else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
                throw RunError("\(directory): no such folder")
            }
        }
        let path = directory + "/" + fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunError("cannot open \(path): \(String(cString: strerror(errno))); pass a writable folder")
        }
        let deadline = Date().addingTimeInterval(patience)
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { break }
            let failure = errno
            if failure == EINTR { continue }
            guard failure == EWOULDBLOCK || failure == EAGAIN else {
                close(descriptor)
                throw RunError("cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            if Date() < deadline {
                usleep(20_000)
                continue
            }
            // Held: read who holds it (it writes its record just after locking: give it a moment).
            var holder = readHolder(descriptor)
            let settle = Date().addingTimeInterval(0.2)
            while holder.pid == nil && Date() < settle {
                usleep(10_000)
                holder = readHolder(descriptor)
            }
            close(descriptor)
            let stop = holder.pid.map { " (or stop it: kill \($0))" } ?? ""
            throw RunError("\(directory) is in use by \(holder): one writer at a time; wait for it to end\(stop), then run this again, or use another folder")
        }
        let lock = RunLock(directory: directory, path: path, descriptor: descriptor)
        lock.writeRecord(purpose: purpose)
        return lock
    }

    /// Unlocks (clearing the lock file's record first); further calls do nothing.
    public func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// Whether this object still holds the lock.
    public var isHeld: Bool { descriptor >= 0 }

    /// Who holds the lock of `directory` now, or nil when nobody does (no lock file, or one whose
    /// holder has ended). The check takes a shared lock for an instant; a writer starting at that
    /// instant waits it out (``acquire(directory:purpose:patience:)``'s patience).
    public static func holder(of directory: String) -> Holder? {
        let descriptor = open(directory + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        while true {
            if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
                _ = flock(descriptor, LOCK_UN)
                return nil
            }
            if errno == EINTR { continue }
            guard errno == EWOULDBLOCK || errno == EAGAIN else { return nil }
            return readHolder(descriptor)
        }
    }

    /// The record in the lock file (whatever part of it can be read).
    private static func readHolder(_ descriptor: Int32) -> Holder {
        var bytes = [UInt8](repeating: 0, count: 8192)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0,
              let object = (try? JSONSerialization.jsonObject(with: Data(bytes[0..<count]))) as? [String: Any] else { return Holder() }
        return Holder(pid: (object["pid"] as? NSNumber).map { $0.int32Value }, host: object["host"] as? String,
                      purpose: object["purpose"] as? String, command: object["command"] as? String,
                      started: object["started"] as? String)
    }

    /// Writes this process's record: one JSON line.
    private func writeRecord(purpose: String) {
        let record: [String: Any] = [
            "pid": Int(getpid()), "host": Self.hostName(), "purpose": purpose,
            "command": Self.commandLine(),
            "started": ISO8601DateFormatter().string(from: Date()),
        ]
        guard var data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(UInt8(ascii: "\n"))
        _ = ftruncate(descriptor, 0)
        _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// This process's command line, the program by its name ("meanfield train --out runs/a").
    static func commandLine() -> String {
        var words = CommandLine.arguments
        if let program = words.first { words[0] = (program as NSString).lastPathComponent }
        return words.joined(separator: " ")
    }

    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
