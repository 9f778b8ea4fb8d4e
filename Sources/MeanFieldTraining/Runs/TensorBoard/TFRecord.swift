import Foundation
import MeanFieldModels

/// The TFRecord framing of TensorBoard's events files: each record is
///
///     length (UInt64, little-endian) · maskedCRC32C(length bytes) · data · maskedCRC32C(data)
///
/// (both CRCs UInt32 little-endian; tensorflow/core/lib/io/record_writer.cc). ``frame(_:)`` writes one,
/// ``records(in:)`` reads a file's back and checks both CRCs.
public enum TFRecord {
    /// One record around `data`.
    public static func frame(_ data: Data) -> Data {
        var record = Data(capacity: data.count + 16)
        let length = littleEndianBytes(UInt64(data.count))
        record.append(contentsOf: length)
        record.append(contentsOf: littleEndianBytes(maskedCRC32C(length)))
        record.append(data)
        record.append(contentsOf: littleEndianBytes(maskedCRC32C(data)))
        return record
    }

    /// The records of `data` (a whole events file), in order. A record cut short at the end (a
    /// process killed mid-write) is dropped; a CRC mismatch before that throws, naming `file`.
    public static func records(in data: Data, file: String) throws -> [Data] {
        let bytes = [UInt8](data)
        var records: [Data] = [], offset = 0
        func uint(_ at: Int, _ count: Int) -> UInt64 { (0..<count).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        while offset + 12 <= bytes.count {
            let length = uint(offset, 8)
            guard UInt32(uint(offset + 8, 4)) == maskedCRC32C(bytes[offset..<offset + 8]) else {
                throw RunError("\(file): corrupt record header at byte \(offset) (CRC mismatch); delete the file to drop its events")
            }
            guard length <= UInt64(bytes.count - offset - 16) else { break }
            let start = offset + 12, end = start + Int(length)
            guard UInt32(uint(end, 4)) == maskedCRC32C(bytes[start..<end]) else {
                throw RunError("\(file): corrupt record at byte \(offset) (CRC mismatch); delete the file to drop its events")
            }
            records.append(Data(bytes[start..<end]))
            offset = end + 4
        }
        return records
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `bytes`; "123456789" gives 0xE3069283.
    public static func crc32c<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: rotate right by 15 bits, add 0xA282EAD8 (wrapping).
    public static func maskedCRC32C<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }

    private static func littleEndianBytes<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        (0..<Value.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
