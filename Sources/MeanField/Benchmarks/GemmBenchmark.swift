// `meanfield bench gemm`: GEMM throughput per backend, size and thread count, against the machine's peak.
import Foundation
import MeanFieldKernels
import CMeanFieldSupport

/// What to measure.
public struct GemmBenchmarkConfiguration: Sendable {
    /// Square sizes n (n×n · n×n).
    public var sizes: [Int] = [128, 256, 512, 1024, 2048]
    /// Thread counts (each clamped to the processor count).
    public var threads: [Int] = [1, 2]
    /// Backends (`auto` is measured as what it resolves to per shape).
    public var backends: [GemmBackend] = [.swift, .blas]
    /// Timed samples per case; min/median/max are reported.
    public var repeats: Int = 5
    /// Also measure the Transformer shapes (`GemmBenchmark.transformerShapes`).
    public var includeTransformerShapes = true
    /// Only shapes whose name contains this text (nil: all).
    public var shapeFilter: String? = nil
    /// Minimum duration of one sample, in seconds (small products are repeated to reach it).
    public var minimumSampleSeconds = 0.05

    public init() {}
}

/// One product shape: `batch` independent m×k · k×n products (B stored n×k and used transposed
/// when `transposeB`, as the engine's attention scores Q·Kᵀ use the keys).
public struct GemmShape: Codable, Sendable {
    public var name: String
    public var m: Int, n: Int, k: Int
    public var batch: Int = 1
    public var transposeB = false
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(batch) }
}

/// The machine and its measured FP32 peak (docs/architecture.md, "Measured peak").
public struct MachinePeak: Codable, Sendable {
    public var cpuModel: String
    public var processors: Int
    /// "cpu MHz" from /proc/cpuinfo (often the base clock in a VM), 0 if unavailable.
    public var cpuinfoMHz: Double
    /// Clock measured by timing dependent integer multiplies (3 cycles each), GHz; 0 if not measured.
    public var measuredGHz: Double
    /// CPU level of the Swift kernel (the vector width the FMA loop and the GEMM use).
    public var cpuLevel: String
    /// FP32 FLOP per cycle per core implied by the measurement: peak ÷ measured clock (AVX-512 with
    /// two 512-bit pipes 64; AMD Zen 4's AVX-512 and AVX2 32; 0 when the clock was not measured).
    public var flopsPerCycle: Double
    /// Measured FP32 peak of one core, GFLOP/s: the best rate of a loop of independent fused
    /// multiply-adds at the kernel's vector width (`mf_measure_fp32_peak_gflops`).
    public var peakGFLOPSPerCore: Double
}

/// One measured case.
public struct GemmMeasurement: Codable, Sendable {
    public var shape: GemmShape
    public var backend: String
    public var threads: Int
    public var gflopsMin: Double
    public var gflopsMedian: Double
    public var gflopsMax: Double
    /// Median GFLOP/s ÷ (peak per core × threads).
    public var fractionOfPeak: Double
}

/// The whole run, as printed by `--json`.
public struct GemmBenchmarkReport: Codable, Sendable {
    public var machine: MachinePeak
    public var backendDescription: String
    public var openBLASCore: String?
    public var repeats: Int
    /// Cost of one `Threading.parallelFor(threads) { _ in }` on the largest thread count measured, µs
    /// (median of 5 runs of 20 000 calls; the workers are awake, as between the phases of a GEMM).
    public var parallelForOverheadMicroseconds: Double
    public var measurements: [GemmMeasurement]
    /// What else the host did meanwhile (steal, other processes); nil where /proc is missing.
    public var host: HostActivity? = nil
}

/// Runs and formats the GEMM benchmark.
public enum GemmBenchmark {
    /// Products a mean-field Transformer makes (65 tokens × batch 128 = 8320 rows, D = 64, MLP 256,
    /// 4 heads of 16): QKV/out projections, MLP up/down, attention scores (with B as stored, as the
    /// engine multiplies them, Q·Kᵀ with the keys transposed, and on an L2-resident batch) and attention · V.
    public static let transformerShapes: [GemmShape] = [
        GemmShape(name: "proj 8320x64*64x64", m: 8320, n: 64, k: 64),
        GemmShape(name: "mlp-up 8320x64*64x256", m: 8320, n: 256, k: 64),
        GemmShape(name: "mlp-down 8320x256*256x64", m: 8320, n: 64, k: 256),
        GemmShape(name: "scores 512x(65x16*16x65)", m: 65, n: 65, k: 16, batch: 512),
        GemmShape(name: "scores-Kt 512x(65x16*(65x16)t)", m: 65, n: 65, k: 16, batch: 512, transposeB: true),
        // The same products on a working set that stays in L2 (32 × 25 KB): the kernel without the L3
        // traffic of 512 distinct 17 KB score matrices (benchmarks/RESULTS.md).
        GemmShape(name: "scores-L2 32x(65x16*16x65)", m: 65, n: 65, k: 16, batch: 32),
        GemmShape(name: "attn-v 512x(65x65*65x16)", m: 65, n: 16, k: 65, batch: 512),
    ]

    /// The machine's FP32 peak, measured once per process (about 0.5 s) and cached.
    public static func machinePeak() -> MachinePeak { measuredMachinePeak }

    /// Measures the FP32 peak: an FMA-throughput loop at the kernel's CPU level, and the clock.
    static func measureMachinePeak() -> MachinePeak {
        var model = "unknown", mhz = 0.0
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0] == "model name" && model == "unknown" { model = parts[1] }
                if parts[0] == "cpu MHz" && mhz == 0 { mhz = Double(parts[1]) ?? 0 }
            }
        }
        let level = CPULevel.active
        let peak = mf_measure_fp32_peak_gflops(Int32(level.rawValue), 300)
        let ghz = mf_measure_clock_ghz(200)
        return MachinePeak(cpuModel: model, processors: Threading.processorCount, cpuinfoMHz: mhz, measuredGHz: ghz,
                           cpuLevel: level.description, flopsPerCycle: ghz > 0 ? (peak / ghz).rounded() : 0,
                           peakGFLOPSPerCore: peak)
    }

    /// Runs every case of `configuration`; `progress` receives one line per finished case.
    public static func run(_ configuration: GemmBenchmarkConfiguration, peak: MachinePeak? = nil,
                           progress: (String) -> Void = { _ in }) -> GemmBenchmarkReport {
        let originalThreads = Threading.threadCount
        defer { Threading.threadCount = originalThreads }
        let peak = peak ?? machinePeak()
        var shapes = configuration.sizes.map { GemmShape(name: "square \($0)", m: $0, n: $0, k: $0) }
        if configuration.includeTransformerShapes { shapes += transformerShapes }
        if let filter = configuration.shapeFilter { shapes = shapes.filter { $0.name.contains(filter) } }
        var measurements: [GemmMeasurement] = []
        for threads in configuration.threads {
            Threading.threadCount = min(threads, Threading.processorCount)
            let threadCount = Threading.threadCount
            for shape in shapes {
                for backend in configuration.backends {
                    let resolved = Gemm.resolvedBackend(backend, m: shape.m, n: shape.n, k: shape.k)
                    if backend == .blas && resolved != .blas { continue } // no OpenBLAS: nothing to measure
                    let samples = measure(shape, backend: resolved, repeats: configuration.repeats,
                                          minimumSampleSeconds: configuration.minimumSampleSeconds)
                    let rates = samples.map { shape.flops / $0 / 1e9 }.sorted()
                    let label = backend == .auto ? "auto(\(resolved.rawValue))" : backend.rawValue
                    let measurement = GemmMeasurement(
                        shape: shape, backend: label, threads: threadCount, gflopsMin: rates.first!,
                        gflopsMedian: rates[rates.count / 2], gflopsMax: rates.last!,
                        fractionOfPeak: rates[rates.count / 2] / (peak.peakGFLOPSPerCore * Double(threadCount)))
                    measurements.append(measurement)
                    progress(format(measurement))
                }
            }
        }
        Threading.threadCount = min(configuration.threads.max() ?? 1, Threading.processorCount)
        let overhead = parallelForOverhead()
        progress(String(format: "parallelFor overhead, %d threads: %.2f µs per call", Threading.threadCount, overhead))
        return GemmBenchmarkReport(machine: peak, backendDescription: Gemm.backendDescription(),
                                   openBLASCore: Gemm.isBLASAvailable ? openBLASCoreName() : nil,
                                   repeats: configuration.repeats, parallelForOverheadMicroseconds: overhead,
                                   measurements: measurements)
    }

    /// Median time of an empty `parallelFor` over `threadCount` indices, in µs.
    public static func parallelForOverhead() -> Double {
        let calls = 20_000, clock = ContinuousClock()
        let count = Threading.threadCount
        var samples: [Double] = []
        for _ in 0..<5 {
            let elapsed = clock.measure {
                for _ in 0..<calls { Threading.parallelFor(count) { _ in } }
            }
            samples.append(seconds(elapsed) / Double(calls) * 1e6)
        }
        return samples.sorted()[samples.count / 2]
    }

    private static func openBLASCoreName() -> String? {
        let description = Gemm.backendDescription()
        guard let range = description.range(of: "core ") else { return nil }
        return String(description[range.upperBound...].prefix { $0 != ";" })
    }

    /// Seconds per product (per batch for batched shapes), one value per repeat.
    static func measure(_ shape: GemmShape, backend: GemmBackend, repeats: Int, minimumSampleSeconds: Double) -> [Double] {
        let aCount = shape.m * shape.k, bCount = shape.k * shape.n, cCount = shape.m * shape.n
        var a = [Float](repeating: 0, count: aCount * shape.batch)
        var b = [Float](repeating: 0, count: bCount * shape.batch)
        var c = [Float](repeating: 0, count: cCount * shape.batch)
        var state: UInt32 = 12345
        for index in a.indices { state = state &* 1664525 &+ 1013904223; a[index] = Float(state >> 8) / Float(1 << 24) - 0.5 }
        for index in b.indices { state = state &* 1664525 &+ 1013904223; b[index] = Float(state >> 8) / Float(1 << 24) - 0.5 }
        return a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    let aBase = aBuffer.baseAddress!, bBase = bBuffer.baseAddress!, cBase = cBuffer.baseAddress!
                    func product(_ index: Int) {
                        Gemm.gemm(transposeA: false, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k, alpha: 1,
                                  a: aBase + index * aCount, lda: shape.k, b: bBase + index * bCount,
                                  ldb: shape.transposeB ? shape.k : shape.n,
                                  beta: 0, c: cBase + index * cCount, ldc: shape.n, backend: backend)
                    }
                    func once() {
                        if shape.batch == 1 {
                            product(0)
                        } else if backend == .swift {
                            Threading.parallelFor(shape.batch) { product($0) } // each product single-threaded
                        } else {
                            for index in 0..<shape.batch { product(index) } // OpenBLAS threads inside
                        }
                    }
                    once() // warm-up: packing buffers, OpenBLAS threads, page faults
                    let clock = ContinuousClock()
                    let warm = clock.measure { once() }
                    let perCall = max(1e-9, seconds(warm))
                    let iterations = max(1, Int((minimumSampleSeconds / perCall).rounded(.up)))
                    return (0..<max(1, repeats)).map { _ in
                        let elapsed = clock.measure { for _ in 0..<iterations { once() } }
                        return seconds(elapsed) / Double(iterations)
                    }
                }
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    /// One table line for a measurement.
    public static func format(_ measurement: GemmMeasurement) -> String {
        func number(_ value: Double) -> String { String(format: "%7.1f", value) }
        let shape = measurement.shape.name.padding(toLength: 26, withPad: " ", startingAt: 0)
        let backend = measurement.backend.padding(toLength: 12, withPad: " ", startingAt: 0)
        return "\(shape) \(backend) threads \(measurement.threads)  GFLOP/s min \(number(measurement.gflopsMin)) "
            + "median \(number(measurement.gflopsMedian)) max \(number(measurement.gflopsMax))  "
            + String(format: "%5.1f%% of peak", 100 * measurement.fractionOfPeak)
    }

    /// The header printed before the table.
    public static func header(_ peak: MachinePeak) -> String {
        String(format: "CPU %@, %d processors, kernel level %@: measured FP32 peak %.1f GFLOP/s per core (FMA loop; ≈ %.0f FLOP/cycle at the measured %.2f GHz, cpuinfo %.0f MHz)",
               peak.cpuModel, peak.processors, peak.cpuLevel, peak.peakGFLOPSPerCore, peak.flopsPerCycle,
               peak.measuredGHz, peak.cpuinfoMHz)
    }

    /// The backend called `name` (auto, swift, blas), nil if there is none.
    public static func backend(named name: String) -> GemmBackend? { GemmBackend(rawValue: name.lowercased()) }

    /// The report as one JSON object (sorted keys).
    public static func json(_ report: GemmBenchmarkReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(report) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The FP32 peak of this process's machine, measured on first use (``GemmBenchmark/machinePeak()``).
private let measuredMachinePeak = GemmBenchmark.measureMachinePeak()
