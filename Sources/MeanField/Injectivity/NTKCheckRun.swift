import Foundation
import MeanFieldCore

/// Everything an `ntk-check` run was asked to do (written as the run's config.json).
public struct NTKCheckConfig: Codable, Sendable {
    public var families: [TokenFamily]
    /// K, the number of token sets per family.
    public var sets: Int
    /// N, tokens per set (Diracs: 1; fashion-mnist: the image's patches).
    public var tokens: Int
    /// d, the token dimension.
    public var dimension: Int
    public var options: InjectivityOptions
    /// Exact Gaussian laws (closed-form g) for the `gaussian` family instead of sampled tokens.
    public var exactGaussians: Bool
    /// Patch side for dataset tokens.
    public var patch: Int
    /// Where Fashion-MNIST is read from (nil: its default location).
    public var dataDirectory: String?
    public var seed: UInt64

    public init(families: [TokenFamily], sets: Int, tokens: Int, dimension: Int, options: InjectivityOptions,
                exactGaussians: Bool = false, patch: Int = 7, dataDirectory: String? = nil, seed: UInt64) {
        self.families = families; self.sets = sets; self.tokens = tokens; self.dimension = dimension
        self.options = options; self.exactGaussians = exactGaussians; self.patch = patch
        self.dataDirectory = dataDirectory; self.seed = seed
    }

    /// One-line errors for values the check cannot use, each naming the flag and the fix.
    public func validate() throws {
        if families.isEmpty { throw RunError("--family is empty; pass one of \(TokenFamily.allCases.map(\.rawValue).joined(separator: ", ")) or all") }
        if sets < 1 { throw RunError("--sets \(sets) must be at least 1") }
        if tokens < 1 { throw RunError("--tokens \(tokens) must be at least 1") }
        if dimension < 1 { throw RunError("--dimension \(dimension) must be at least 1") }
        // Sizes first, so that the sums and products below stay inside Int.
        let bound = TrainBound.size
        for (flag, value) in [("--sets", sets), ("--tokens", tokens), ("--dimension", dimension), ("--directions", options.directions), ("--patch", patch)]
        where value > bound.value {
            throw RunError("\(flag) \(value) must be at most \(bound.value) (\(bound.reason))")
        }
        // After projecting out span{1, a_p} the columns live in P − d − 1 dimensions: fewer than K would
        // make any family look dependent.
        if options.directions < sets + dimension + 1 {
            throw RunError("--directions \(options.directions) must be at least --sets + --dimension + 1 = \(sets + dimension + 1) (P ≫ K; default 16K)")
        }
        if options.scales.isEmpty || options.scales.contains(where: { !($0 > 0) || !$0.isFinite }) {
            throw RunError("--scales must be positive finite numbers, e.g. 0.5,1,2,4")
        }
        if !(options.tolerance > 0 && options.tolerance < 1) { throw RunError("--tolerance \(options.tolerance) must lie in (0, 1), e.g. 1e-9") }
        if patch < 1 { throw RunError("--patch \(patch) must be at least 1") }
        // In Double: the token sets K·N·d, the directions P·d per scale, the log-sum-exp and Hessian
        // matrices (about 2·P·K) with their SVD copies, and K² of the SVD.
        let K = Double(sets), N = Double(tokens), d = Double(dimension), P = Double(options.directions), S = Double(options.scales.count)
        try MemoryEstimate.check(bytes: 8 * (K * N * d + P * d * S + 4 * P * K + 2 * K * K),
                                 needs: "ntk-check with K = \(sets), N = \(tokens), d = \(dimension), P = \(options.directions)",
                                 fix: "lower --sets, --tokens, --dimension or --directions")
    }
}

/// The outcome for one family: the closed-form expectation and the spectra.
public struct NTKFamilyResult: Codable, Sendable {
    public var family: TokenFamily
    public var sets: Int
    public var tokensPerSet: Int
    public var expectation: String
    /// The closed-form answer (theory §2), nil for dataset tokens.
    public var expectedInjective: Bool?
    public var spectra: [InjectivitySpectrum]
    public var seconds: Double
}

/// What ntk.json holds.
public struct NTKCheckResults: Codable, Sendable {
    public var config: NTKCheckConfig
    public var families: [NTKFamilyResult]
}

/// `meanfield ntk-check`: runs the injectivity check (theory §2) on each requested family and writes
/// the run directory: config.json, manifest.json, metrics.jsonl (one line per family), ntk.json
/// (all singular values and verdicts), spectrum.svg and certificates.svg.
public enum NTKCheckRun {
    /// Runs `config`, writing into `path`; `report` receives one progress line per finished family.
    public static func run(_ config: NTKCheckConfig, path: String, report: (Int, NTKFamilyResult) -> Void = { _, _ in }) throws -> NTKCheckResults {
        try config.validate()
        // Every input is generated or read before the folder exists, so a refused run leaves nothing behind.
        let inputs = try config.families.map { try measuresFor($0, config) }
        let directory = try RunDirectory(path: path)
        try directory.writeConfig(config)
        try directory.writeManifest(RunManifest.current(seed: config.seed, scalarType: "f64"))
        var results: [NTKFamilyResult] = []
        for (index, family) in config.families.enumerated() {
            let start = Date()
            let measures = inputs[index]
            let spectra = InjectivityCheck.run(measures, options: config.options)
            let tokens = if case .empirical(_, let count, _) = measures[0] { count } else { 0 }
            let result = NTKFamilyResult(
                family: family, sets: measures.count, tokensPerSet: tokens, expectation: family.expectation,
                expectedInjective: family.expectedInjective(sets: measures.count, dimension: config.dimension, exactGaussians: config.exactGaussians),
                spectra: spectra, seconds: Date().timeIntervalSince(start))
            results.append(result)
            var line = "{\"family\":\"\(family.rawValue)\",\"index\":\(index),\"sets\":\(measures.count)"
            for spectrum in spectra {
                let key = spectrum.variant == "hessian" ? "hessian" : "lse"
                line += ",\"\(key)_certificate\":\(RunDirectory.jsonNumber(spectrum.certificate)),\"\(key)_injective\":\(spectrum.injective)"
            }
            try directory.appendMetricsLine(line + ",\"seconds\":\(RunDirectory.jsonNumber(result.seconds))}")
            report(index, result)
        }
        let all = NTKCheckResults(config: config, families: results)
        try directory.writeJSON("ntk.json", all)
        try directory.writeAtomically("spectrum.svg", Data(NTKCheckCharts.spectrum(all).svg(id: "spectrum").utf8))
        try directory.writeAtomically("certificates.svg", Data(NTKCheckCharts.certificates(all).svg(id: "certificates").utf8))
        return all
    }

    static func measuresFor(_ family: TokenFamily, _ config: NTKCheckConfig) throws -> [TokenMeasure] {
        if family == .fashionMNIST {
            // The default location is tried only when no --data is given (DatasetLoader's rule).
            let splits = try DatasetLoader.load(.fashionMNIST, dataDirectory: config.dataDirectory)
            return try DatasetTokens.measures(from: splits.test, sets: config.sets, patch: config.patch, dimension: config.dimension, seed: config.seed)
        }
        return try TokenFamilyGenerator.generate(family, sets: config.sets, tokens: config.tokens, dimension: config.dimension,
                                                 seed: config.seed, exactGaussians: config.exactGaussians)
    }
}
