import XCTest
import MeanFieldKernels
@testable import MeanField

/// The measured FP32 peak (docs/architecture.md, "Measured peak") against an independent
/// measurement: the clock timed by dependent integer multiplies. Their ratio is FLOP per cycle, which the
/// hardware fixes at 2 × lanes × FMA pipes: 16 lanes × 1–2 pipes (32 or 64; Zen 4 executes a
/// 512-bit FMA as two halves) for AVX-512, 8 × 1–2 (16 or 32) for AVX2, 4 × 1–2 mul+add pairs for
/// the portable kernel. The bounds leave room for a sibling hyper-thread taking half the FMA units
/// and for turbo differences between the two loops, and still fail a lane count or a FLOP count
/// off by 2× upwards, or a loop the compiler removed.
final class MachinePeakTests: XCTestCase {
    func testMeasuredPeakMatchesTheClockAndTheVectorWidth() throws {
        let peak = GemmBenchmark.machinePeak()
        XCTAssertTrue(peak.peakGFLOPSPerCore.isFinite && peak.peakGFLOPSPerCore > 0, "peak \(peak.peakGFLOPSPerCore)")
        try XCTSkipIf(peak.measuredGHz <= 0, "no clock measurement on this architecture")
        let perCycle = peak.peakGFLOPSPerCore / peak.measuredGHz
        let maximum: Double
        switch CPULevel.active {
        case .avx512: maximum = 64
        case .avx2: maximum = 32
        case .portable: maximum = 16
        }
        XCTAssertLessThanOrEqual(perCycle, 1.15 * maximum, "\(CPULevel.active): \(perCycle) FLOP/cycle")
        XCTAssertGreaterThanOrEqual(perCycle, 0.2 * maximum, "\(CPULevel.active): \(perCycle) FLOP/cycle")
    }

    func testPeakIsMeasuredOncePerProcess() {
        let first = GemmBenchmark.machinePeak(), second = GemmBenchmark.machinePeak()
        XCTAssertEqual(first.peakGFLOPSPerCore, second.peakGFLOPSPerCore)
    }
}
