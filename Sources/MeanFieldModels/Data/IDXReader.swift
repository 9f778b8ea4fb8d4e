/// An array read from an IDX file: its dimensions and its unsigned bytes, row-major.
public struct IDXArray: Sendable, Equatable {
    public var dimensions: [Int]
    public var bytes: [UInt8]
}

/// Reader of the IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/),
/// gzip-compressed (`.gz`) or plain.
///
/// Layout (big-endian): magic `00 00 TT RR` (TT the element type, 0x08 = unsigned byte; RR the rank),
/// RR dimensions as 32-bit integers, then the elements row-major. Image files are rank 3
/// `[count, rows, columns]` (magic 0x00000803), label files rank 1 `[count]` (0x00000801).
///
/// Checks: the magic number, the element type, the rank, every dimension (non-zero; image sides at most
/// `DatasetLimits.maximumImageSide`; total at most 2 GiB), and the data length against the header
/// (a short file is "truncated", a longer one is reported too). The data are read in chunks, so a
/// corrupt header never makes the reader allocate the declared size before the bytes exist.
public enum IDXReader {
    /// The default advice when a file is wrong.
    public static let defaultRemedy = "re-download the file or pass --data DIR"

    /// Reads an IDX array of unsigned bytes; `expectedRank` (when given) must match the header.
    public static func read(path: String, expectedRank: Int? = nil, remedy: String = defaultRemedy) throws -> IDXArray {
        let file = try GzipFile(path: path, remedy: remedy)
        func fail(_ kind: DatasetError.Kind, _ detail: String) -> DatasetError {
            DatasetError(path: path, kind: kind, detail: detail, remedy: remedy)
        }
        let holds = file.isCompressed ? "the file decompresses to" : "the file holds"

        let magic = try file.read(4)
        guard magic.count == 4 else {
            throw fail(.truncated, "\(holds) \(magic.count) bytes, fewer than the 4-byte IDX magic number")
        }
        let magicHex = magic.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        guard magic[0] == 0, magic[1] == 0, (1...4).contains(magic[3]) else {
            throw fail(.badMagic, "starts with \(magicHex), not an IDX magic number (00 00 08 01 for labels, 00 00 08 03 for images)")
        }
        guard magic[2] == 0x08 else {
            throw fail(.unsupported, "element type 0x\(String(magic[2], radix: 16)) in magic \(magicHex); only unsigned bytes (0x08, as in MNIST) are supported")
        }
        let rank = Int(magic[3])
        if let expectedRank, rank != expectedRank {
            let what = expectedRank == 3 ? "an image file (00 00 08 03)" : expectedRank == 1 ? "a label file (00 00 08 01)" : "rank \(expectedRank)"
            throw fail(.badMagic, "magic \(magicHex) declares rank \(rank), expected \(what)")
        }

        let header = try file.read(4 * rank)
        guard header.count == 4 * rank else {
            throw fail(.truncated, "\(holds) \(4 + header.count) bytes, fewer than the \(4 + 4 * rank)-byte header")
        }
        let dimensions = (0..<rank).map { axis in
            header[4 * axis..<4 * axis + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        let shapeText = describe(dimensions)
        guard dimensions.allSatisfy({ $0 > 0 }) else {
            throw fail(.badHeader, "header declares \(shapeText): a zero dimension")
        }
        if rank == 3, dimensions[1] > DatasetLimits.maximumImageSide || dimensions[2] > DatasetLimits.maximumImageSide {
            throw fail(.badHeader, "header declares \(shapeText): images larger than \(DatasetLimits.maximumImageSide) pixels a side")
        }
        guard let payload = checkedProduct(dimensions) else {
            throw fail(.tooLarge, "header declares \(shapeText), more than \(DatasetLimits.maximumBytes) bytes")
        }
        let headerBytes = 4 + 4 * rank
        let expectedTotal = headerBytes + payload
        // A plain file's length is known before reading anything.
        if !file.isCompressed, file.fileSize != expectedTotal {
            throw lengthError(path: path, shapeText: shapeText, expected: expectedTotal, found: file.fileSize,
                              holds: holds, remedy: remedy)
        }
        let bytes = try file.read(payload + 1)
        if bytes.count != payload {
            let found = bytes.count < payload ? headerBytes + bytes.count : nil
            throw lengthError(path: path, shapeText: shapeText, expected: expectedTotal, found: found, holds: holds, remedy: remedy)
        }
        return IDXArray(dimensions: dimensions, bytes: bytes)
    }

    /// Images `[count, rows, columns]` from an IDX3 file.
    public static func readImages(path: String, remedy: String = defaultRemedy) throws -> IDXArray {
        try read(path: path, expectedRank: 3, remedy: remedy)
    }

    /// Labels from an IDX1 file; every label must be below `classCount`.
    public static func readLabels(path: String, classCount: Int, remedy: String = defaultRemedy) throws -> [Int] {
        let array = try read(path: path, expectedRank: 1, remedy: remedy)
        if let position = array.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError(path: path, kind: .badLabel,
                               detail: "label \(position) is \(array.bytes[position]), but there are \(classCount) classes (0…\(classCount - 1))",
                               remedy: remedy)
        }
        return array.bytes.map { Int($0) }
    }

    /// "60000 images of 28×28" / "60000 labels" / "2×3×4×5 elements".
    static func describe(_ dimensions: [Int]) -> String {
        switch dimensions.count {
        case 1: return "\(dimensions[0]) labels"
        case 3: return "\(dimensions[0]) images of \(dimensions[1])×\(dimensions[2])"
        default: return dimensions.map(String.init).joined(separator: "×") + " elements"
        }
    }

    /// `found`: the real length, or nil when only "longer than declared" is known (compressed file).
    private static func lengthError(path: String, shapeText: String, expected: Int, found: Int?, holds: String,
                                    remedy: String) -> DatasetError {
        if let found, found < expected {
            return DatasetError(path: path, kind: .truncated,
                                detail: "header declares \(shapeText) (\(expected) bytes) but \(holds) \(found) bytes",
                                remedy: remedy)
        }
        return DatasetError(path: path, kind: .mismatch,
                            detail: "header declares \(shapeText) (\(expected) bytes) but \(holds) "
                                + (found.map { "\($0) bytes" } ?? "more than that"),
                            remedy: remedy)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
