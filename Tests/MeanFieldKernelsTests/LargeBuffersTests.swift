// LargeBuffers (LargeBuffers.c): zeroed memory; from 2 MiB on, 2 MiB-aligned and advised as whole huge
// pages, the bytes `bench train` counts.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import CMeanFieldSupport
@testable import MeanFieldKernels

@Suite("Large buffers", .serialized)
struct LargeBuffersTests {
    @Test("Zeroed, aligned and writable to the last byte, below and above the huge-page size",
          arguments: [1, 4096 + 3, LargeBuffers.hugePageBytes - 1, LargeBuffers.hugePageBytes, 3 * LargeBuffers.hugePageBytes + 5])
    func zeroedAndAligned(bytes: Int) {
        // A first buffer of the same size, dirtied and freed, so that a reused block must be zeroed again.
        let first = LargeBuffers.allocateZeroed(bytes: bytes)
        memset(first.pointer, 0xFF, bytes)
        LargeBuffers.free(first)
        let allocation = LargeBuffers.allocateZeroed(bytes: bytes)
        defer { LargeBuffers.free(allocation) }
        let address = Int(bitPattern: allocation.pointer)
        #expect(address % 64 == 0)
        if bytes >= LargeBuffers.hugePageBytes {
            #expect(address % LargeBuffers.hugePageBytes == 0, "a huge-page buffer starts on a 2 MiB boundary")
        }
        var bits: UInt64 = 0  // every byte OR-ed together, eight at a time
        for offset in stride(from: 0, to: bytes - 7, by: 8) { bits |= allocation.pointer.load(fromByteOffset: offset, as: UInt64.self) }
        for offset in (bytes - bytes % 8)..<bytes { bits |= UInt64(allocation.pointer.load(fromByteOffset: offset, as: UInt8.self)) }
        #expect(bits == 0)
        let raw = allocation.pointer.assumingMemoryBound(to: UInt8.self)
        raw[bytes - 1] = 0xAB
        #expect(raw[bytes - 1] == 0xAB)
    }

    #if os(Linux)
    /// Linux kernels built with transparent huge pages (the sysfs file exists) accept MADV_HUGEPAGE in
    /// every mode; the advised bytes are the buffer rounded up to whole huge pages, which is what
    /// `bench train` counts.
    @Test("Buffers from 2 MiB on are advised as whole huge pages, smaller ones are not")
    func hugePageAdvice() {
        let hasTransparentHugePages = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0
        let page = LargeBuffers.hugePageBytes
        for (bytes, wholePages) in [(page, page), (page + 1, 2 * page), (3 * page - 1, 3 * page)] {
            var advised: UInt = 1
            let buffer = mf_allocate_zeroed(UInt(bytes), &advised)
            #expect(buffer != nil)
            #expect(Int(advised) == (hasTransparentHugePages ? wholePages : 0))
            mf_free(buffer)
        }
        var advised: UInt = 1
        let small = mf_allocate_zeroed(UInt(page - 1), &advised)
        #expect(advised == 0, "below 2 MiB nothing is advised")
        mf_free(small)
    }
    #endif
}
