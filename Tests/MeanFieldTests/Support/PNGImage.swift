import CZlib
import Foundation
import MeanField

/// A decoded 8-bit PNG (grey, grey+alpha, RGB or RGBA, not interlaced: what browsers write for
/// screenshots), enough to check that a rendered report is not blank. Pixels are RGB triples.
public struct PNGImage: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major RGB, 3 bytes per pixel (alpha dropped).
    public var rgb: [UInt8]

    /// Decodes the PNG file at `path`; one-line errors for anything else.
    public static func read(path: String) throws -> PNGImage {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("\(path): cannot read the file") }
        return try decode([UInt8](data), name: path)
    }

    /// Decodes PNG bytes (`name` is used in messages).
    public static func decode(_ bytes: [UInt8], name: String = "PNG") throws -> PNGImage {
        func fail(_ problem: String) -> RunError { RunError("\(name): \(problem)") }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw fail("not a PNG file") }
        func integer(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        var offset = 8, width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        while offset + 8 <= bytes.count {
            let length = integer(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= bytes.count else { throw fail("truncated chunk \(type)") }
            let body = bytes[(offset + 8)..<(offset + 8 + length)]
            switch type {
            case "IHDR":
                width = integer(offset + 8)
                height = integer(offset + 12)
                let depth = body[body.startIndex + 8], colourType = body[body.startIndex + 9], interlace = body[body.startIndex + 12]
                guard depth == 8, interlace == 0 else { throw fail("only 8-bit non-interlaced PNGs are read (depth \(depth), interlace \(interlace))") }
                switch colourType {
                case 0: channels = 1
                case 2: channels = 3
                case 4: channels = 2
                case 6: channels = 4
                default: throw fail("unsupported colour type \(colourType) (palette images are not read)")
                }
            case "IDAT": compressed += body
            default: break
            }
            if type == "IEND" { break }
            offset += 12 + length
        }
        guard width > 0, height > 0, channels > 0 else { throw fail("no IHDR chunk") }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { output in
            compressed.withUnsafeBufferPointer { input in
                uncompress(output.baseAddress, &rawLength, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { throw fail("corrupt image data (zlib status \(status))") }
        // Undo the per-row filters (PNG spec §9).
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            let source = row * (stride + 1) + 1, target = row * stride
            for column in 0..<stride {
                let x = Int(raw[source + column])
                let left = column >= channels ? Int(pixels[target + column - channels]) : 0
                let up = row > 0 ? Int(pixels[target - stride + column]) : 0
                let upLeft = row > 0 && column >= channels ? Int(pixels[target - stride + column - channels]) : 0
                let value: Int
                switch filter {
                case 0: value = x
                case 1: value = x + left
                case 2: value = x + up
                case 3: value = x + (left + up) / 2
                case 4:
                    let estimate = left + up - upLeft
                    let distanceLeft = abs(estimate - left), distanceUp = abs(estimate - up), distanceUpLeft = abs(estimate - upLeft)
                    value = x + (distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft ? left : distanceUp <= distanceUpLeft ? up : upLeft)
                default: throw fail("unknown row filter \(filter) in row \(row)")
                }
                pixels[target + column] = UInt8(truncatingIfNeeded: value)
            }
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for pixel in 0..<(width * height) {
            for channel in 0..<3 {
                rgb[pixel * 3 + channel] = pixels[pixel * channels + (channels >= 3 ? channel : 0)]
            }
        }
        return PNGImage(width: width, height: height, rgb: rgb)
    }

    /// The most common colour (the background of a page), as 0xRRGGBB.
    public var backgroundColour: Int {
        var counts: [Int: Int] = [:]
        for pixel in Swift.stride(from: 0, to: rgb.count, by: 3 * 7) { counts[colour(at: pixel), default: 0] += 1 }
        return counts.max { $0.value < $1.value }?.key ?? 0
    }

    /// The fraction of pixels whose colour differs from the background.
    public var nonBackgroundFraction: Double {
        let background = backgroundColour
        var different = 0
        for pixel in Swift.stride(from: 0, to: rgb.count, by: 3) where colour(at: pixel) != background { different += 1 }
        return Double(different) / Double(max(1, width * height))
    }

    /// How many distinct colours appear (counting colours quantised to 4 bits per channel, so
    /// anti-aliasing does not inflate the count).
    public var distinctColourCount: Int {
        var seen = Set<Int>()
        for pixel in Swift.stride(from: 0, to: rgb.count, by: 3) {
            seen.insert(Int(rgb[pixel] >> 4) << 8 | Int(rgb[pixel + 1] >> 4) << 4 | Int(rgb[pixel + 2] >> 4))
        }
        return seen.count
    }

    private func colour(at index: Int) -> Int { Int(rgb[index]) << 16 | Int(rgb[index + 1]) << 8 | Int(rgb[index + 2]) }
}
