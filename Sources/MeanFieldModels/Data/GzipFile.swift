import CZlib
import Foundation

/// Reads a file that may be gzip-compressed, through the system zlib (`gzopen`/`gzread`; a file
/// without the gzip magic number is read as it is). Reads grow in chunks, so a header that declares
/// more data than the file holds never causes a large allocation: callers ask for the declared size
/// plus one byte and compare with what came back.
final class GzipFile {
    let path: String
    /// Size of the file on disk in bytes (compressed size for a gzip file).
    let fileSize: Int
    /// Whether the file is gzip-compressed (false: zlib reads it through unchanged).
    let isCompressed: Bool
    private let handle: gzFile
    private let remedy: String
    /// Bytes returned so far.
    private(set) var bytesRead = 0

    /// Opens `path`; throws `.missing` or `.unreadable` when it cannot.
    init(path: String, remedy: String) throws {
        self.path = path
        self.remedy = remedy
        fileSize = try DatasetError.regularFileSize(path, remedy: remedy)
        guard let handle = gzopen(path, "rb") else {
            throw DatasetError(path: path, kind: .unreadable, detail: String(cString: strerror(errno)), remedy: remedy)
        }
        self.handle = handle
        gzbuffer(handle, 1 << 17)
        isCompressed = Self.hasGzipMagic(path)
    }

    deinit { gzclose(handle) }

    /// Whether the file starts with the gzip magic number 1f 8b.
    static func hasGzipMagic(_ path: String) -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? file.close() }
        let head = (try? file.read(upToCount: 2)) ?? Data()
        return head.count == 2 && head[head.startIndex] == 0x1F && head[head.startIndex + 1] == 0x8B
    }

    /// Up to `count` more bytes (fewer only at the end of the data). Throws when the compressed
    /// stream is corrupt or ends in the middle.
    func read(_ count: Int) throws -> [UInt8] {
        precondition(count >= 0)
        let chunk = 1 << 20
        var result: [UInt8] = []
        result.reserveCapacity(Swift.min(count, chunk))
        var scratch = [UInt8](repeating: 0, count: Swift.min(count, chunk))
        while result.count < count {
            let want = Swift.min(chunk, count - result.count)
            let got = scratch.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32(want)) }
            if got < 0 { throw streamError(default: "read failed") }
            if got == 0 { break }
            result.append(contentsOf: scratch[0..<Int(got)])
            bytesRead += Int(got)
        }
        if result.count < count {
            // End of data: a compressed stream that stopped mid-way leaves Z_BUF_ERROR behind.
            var code: Int32 = 0
            _ = gzerror(handle, &code)
            if code != Z_OK { throw streamError(default: "unexpected end of file") }
        }
        return result
    }

    /// The zlib error state as a `DatasetError`.
    private func streamError(default fallback: String) -> DatasetError {
        var code: Int32 = 0
        var message = gzerror(handle, &code).map { String(cString: $0) } ?? fallback
        if message.hasPrefix(path + ": ") { message.removeFirst(path.count + 2) }  // zlib prefixes the path
        switch code {
        case Z_ERRNO:
            return DatasetError(path: path, kind: .unreadable, detail: String(cString: strerror(errno)), remedy: remedy)
        case Z_BUF_ERROR:
            return DatasetError(path: path, kind: .truncated,
                                detail: "the compressed stream ends early (\(message)) after \(bytesRead) decompressed bytes",
                                remedy: remedy)
        default:
            return DatasetError(path: path, kind: .corruptCompression,
                                detail: "\(message.isEmpty ? fallback : message) (zlib error \(code))", remedy: remedy)
        }
    }
}
