import ArgumentParser
import Foundation
import MeanField

/// `meanfield ntk-check`: the NTK injectivity test of theory §2 on generated or dataset token sets (E6).
struct NTKCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntk-check",
        abstract: "Test NTK injectivity of attention: singular values of the affine-projected log-sum-exp matrix.",
        discussion: """
        Attention's NTK is injective iff g_k(a) = log Σ_i exp(a·z_{k,i}) are linearly independent modulo \
        affine functions of a (theory §2). For each family, K token sets are generated (or read: \
        fashion-mnist test images, 7×7 patches randomly projected to R^d), g_k is sampled at P \
        directions over several scales, each column is normalised, span{1, a_p} is projected out and \
        the singular values are printed with the certificate σ_min/σ_max and the verdict. The Hessian \
        variant tests vec ∇²g_k(a_p) (tilted covariances) instead. Expected: discrete, uniform and \
        gaussian-mixture sets independent; translated and dirac dependent; exact gaussians (--exact-gaussians) \
        independent iff K ≤ d(d+1)/2.
        Writes DIR/config.json, manifest.json, metrics.jsonl, ntk.json, spectrum.svg, certificates.svg; \
        render with meanfield report DIR.
        Examples:
          meanfield ntk-check --family translated --sets 20
          meanfield ntk-check --family all --sets 500 --out runs/e6
        """)

    @Option(help: "Comma-separated families among discrete, uniform, gaussian-mixture, gaussian, translated, dirac, fashion-mnist, or all.")
    var family: String = "discrete"

    @Option(help: "K, token sets per family.")
    var sets: Int = 50

    @Option(help: "N, tokens per set (dirac: 1; fashion-mnist: the image's patches).")
    var tokens: Int = 16

    @Option(help: "d, token dimension.")
    var dimension: Int = 3

    @Option(help: "P, probe directions (default 16K, at least 64; the certificate converges from below as P grows).")
    var directions: Int?

    @Option(help: "Comma-separated direction scales |a|.")
    var scales: String = "0.5,1,2,4"

    @Option(help: "Verdict threshold on σ_min/σ_max (relative to unit-norm columns).")
    var tolerance: Double = 1e-9

    @Flag(help: "Exact Gaussian laws N(m, Σ) with closed-form g(a) = a·m + ½aᵀΣa instead of sampled tokens.")
    var exactGaussians = false

    @Flag(help: "Skip the Hessian (tilted-covariance) variant.")
    var noHessian = false

    @Option(help: "Patch side in pixels for dataset tokens.")
    var patch: Int = 7

    @Option(help: "Fashion-MNIST folder (default: its usual location).")
    var data: String?

    @Option(help: "Random seed (token sets, directions, projection).")
    var seed: UInt64 = 0

    @Option(help: "Run directory (default runs/ntk-check-<time>).")
    var out: String?

    func run() throws {
        let names = family == "all" ? TokenFamily.allCases.map(\.rawValue) : family.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let families = try names.map { name in
            guard let value = TokenFamily(rawValue: name) else {
                throw RunError("--family \(name) is unknown; pass \(TokenFamily.allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            return value
        }
        let scaleValues = try commaList(scales, option: "--scales", "is not a number", example: "e.g. 0.5,1,2,4") { Double($0) }
        let options = InjectivityOptions(directions: directions ?? TrainBound.size.product(16, sets).map { max(64, $0) } ?? Int.max, scales: scaleValues, tolerance: tolerance,
                                         hessian: !noHessian, seed: seed)
        let config = NTKCheckConfig(families: families, sets: sets, tokens: tokens, dimension: dimension, options: options,
                                    exactGaussians: exactGaussians, patch: patch, dataDirectory: data, seed: seed)
        let path = try runFolder(out, default: "ntk-check")
        let progress = ProgressLine(total: families.count)
        let results = try NTKCheckRun.run(config, path: path) { index, result in
            progress.update(completed: index + 1, fields: "\(result.family.rawValue) \(String(format: "%.1f", result.seconds)) s")
        }
        progress.finish()
        for result in results.families {
            print("\(result.family.rawValue): K = \(result.sets), N = \(result.tokensPerSet == 0 ? "exact law" : "\(result.tokensPerSet)"), d = \(config.dimension), P = \(options.directions) — expected: \(result.expectation)")
            for spectrum in result.spectra {
                let values = spectrum.singularValues
                let head = values.prefix(3).map { format($0) }.joined(separator: " ")
                let tail = values.suffix(3).map { format($0) }.joined(separator: " ")
                print("  \(spectrum.variant) (\(spectrum.rows)×\(spectrum.columns)): σ = \(head)\(values.count > 6 ? " … " : " ")\(values.count > 3 ? tail : "")")
                print("    certificate σ_min/σ_max = \(format(spectrum.certificate)), tolerance \(format(tolerance)): \(spectrum.verdict)")
            }
        }
        print("Run directory: \(path) (meanfield report \(path))")
    }

    private func format(_ value: Double) -> String { String(format: "%.3g", value) }
}
