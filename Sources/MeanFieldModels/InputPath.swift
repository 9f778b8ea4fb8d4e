import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths given by the user, checked before anything reads or writes them: a file to read must be a
/// regular file (symbolic links followed: datasets on clusters are often links), never a FIFO, a
/// device or a folder, which would block a read or make no sense; a folder to write or read must
/// not be empty text or the root folder.
public enum InputPath {
    /// What `stat` (which follows symbolic links) finds at a path.
    public enum Kind: Equatable, Sendable {
        /// A regular file of this many bytes.
        case regular(bytes: Int)
        /// Nothing there (or a symbolic link to nothing).
        case missing
        /// Something that is not a regular file: "a directory", "a FIFO (named pipe)", "a character device", ….
        case other(String)
        /// `stat` failed otherwise (permissions): the system's reason.
        case unreadable(String)
    }

    /// What is at `path`, symbolic links followed.
    public static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(bytes: Int(info.st_size))
        case S_IFDIR: return .other("a directory")
        case S_IFIFO: return .other("a FIFO (named pipe)")
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        case S_IFSOCK: return .other("a socket")
        default: return .other("not a regular file")
        }
    }

    /// The size of the regular file at `path` to be read through `flag`, or one line naming it:
    /// "--config /tmp/p: is a FIFO (named pipe), not a regular file; pass the file itself".
    public static func regularFileSize(_ path: String, flag: String) throws -> Int {
        try checkNotEmpty(path, flag: flag)
        switch kind(path) {
        case .regular(let bytes): return bytes
        case .missing: throw RunError("\(flag) \(path): cannot read the file (missing or unreadable)")
        case .other(let what): throw RunError("\(flag) \(path): is \(what), not a regular file; pass the file itself")
        case .unreadable(let reason): throw RunError("\(flag) \(path): cannot read the file (\(reason))")
        }
    }

    /// Refuses an empty path (it would mean the current folder, or make `DIR/checkpoints` the root's),
    /// the root folder (a run or dataset folder is never `/`) and anything there that is not a
    /// folder (symbolic links followed) for `flag`.
    public static func checkFolder(_ path: String, flag: String) throws {
        try checkNotEmpty(path, flag: flag)
        if URL(fileURLWithPath: path).standardizedFileURL.path == "/" {
            throw RunError("\(flag) \(path): the root folder cannot be used; pass a folder of its own")
        }
        // Something that is there and is not a folder (a file, /dev/null, a FIFO) is refused now,
        // not after the work it was to receive.
        switch kind(path) {
        case .regular: throw RunError("\(flag) \(path): is a file, not a folder; pass a folder (created if missing)")
        case .other(let what) where what != "a directory":
            throw RunError("\(flag) \(path): is \(what), not a folder; pass a folder (created if missing)")
        default: break
        }
    }

    private static func checkNotEmpty(_ path: String, flag: String) throws {
        if path.trimmingCharacters(in: .whitespaces).isEmpty {
            throw RunError("\(flag): expected a path, got '\(path)'")
        }
    }
}
