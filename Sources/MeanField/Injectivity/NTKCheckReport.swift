import Foundation

/// The `meanfield report` page of an ntk-check run directory (one with ntk.json): configuration and
/// provenance, the verdict table (expectation from theory §2 beside the measured certificate), the
/// certificate-per-family figure (E6) and the spectra of both variants.
public enum NTKCheckReport {
    /// Whether `path` holds an ntk-check run.
    public static func isNTKCheck(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/ntk.json")
    }

    /// Reads `path`/ntk.json (one-line error if unreadable) and builds the page.
    public static func page(path: String) throws -> HTMLPage {
        let file = path + "/ntk.json"
        guard let data = FileManager.default.contents(atPath: file),
              let results = try? RunFormat.decoder().decode(NTKCheckResults.self, from: data) else {
            throw RunError("\(file): not an ntk-check result; rerun meanfield ntk-check --out \(path)")
        }
        let manifest = (try? RunFolder.readManifest(in: path)) ?? nil
        return page(results, name: URL(fileURLWithPath: path).lastPathComponent, manifest: manifest)
    }

    /// The page for already-loaded results.
    public static func page(_ results: NTKCheckResults, name: String, manifest: RunManifest? = nil) -> HTMLPage {
        let config = results.config
        var page = HTMLPage(title: "NTK injectivity check: \(name)",
                            subtitle: "K = \(config.sets) sets, d = \(config.dimension), P = \(config.options.directions) directions, tolerance \(InjectivityCheck.format(config.options.tolerance))")
        var overview = HTMLPage.Section(id: "overview", title: "Configuration")
        var pairs: [(String, String)] = [
            ("families", config.families.map(\.rawValue).joined(separator: ", ")), ("sets K", "\(config.sets)"),
            ("tokens N", "\(config.tokens)"), ("dimension d", "\(config.dimension)"), ("directions P", "\(config.options.directions)"),
            ("scales", config.options.scales.map { "\($0)" }.joined(separator: ", ")),
            ("tolerance", InjectivityCheck.format(config.options.tolerance)), ("exact Gaussians", "\(config.exactGaussians)"),
            ("seed", "\(config.seed)")]
        pairs += manifest?.provenance.filter { ["git commit", "threads", "CPU", "started at"].contains($0.label) } ?? []
        overview.keyValues(pairs, caption: "Configuration and provenance")
        page.add(overview)

        var verdicts = HTMLPage.Section(id: "verdicts", title: "Verdicts")
        verdicts.paragraph("Attention's NTK is injective iff the g_k(a) = log Σ_i exp(a·z_{k,i}) are linearly independent modulo affine functions (theory §2). The certificate is σ_min/σ_max of the column-normalised, affine-projected matrix G_pk = g_k(a_p); the Hessian variant uses vec ∇²g_k(a_p).")
        let rows: [[String]] = results.families.flatMap { result in
            result.spectra.map { spectrum in
                [result.family.rawValue, spectrum.variant, "\(result.sets)", result.expectedInjective.map { $0 ? "injective" : "not injective" } ?? "—",
                 InjectivityCheck.format(spectrum.certificate), "\(spectrum.numericalRank)", spectrum.verdict,
                 String(format: "%.2f", result.seconds)]
            }
        }
        verdicts.table(headers: ["family", "matrix", "K", "expected (theory §2)", "certificate", "numerical rank", "verdict", "seconds"],
                       rows: rows, numeric: [2, 4, 5, 7])
        verdicts.figure(NTKCheckCharts.certificates(results),
                        caption: "Certificate per distribution family (E6); the dashed line is the tolerance, values below \(NTKCheckCharts.floor) are drawn at it.")
        page.add(verdicts)

        var spectra = HTMLPage.Section(id: "spectra", title: "Singular-value spectra")
        spectra.figure(NTKCheckCharts.spectrum(results), caption: "Normalised singular values of the affine-projected log-sum-exp matrix per family (families whose largest singular value is below the tolerance, i.e. all g_k affine, are left out).")
        if results.families.contains(where: { $0.spectra.count > 1 }) {
            spectra.figure(NTKCheckCharts.spectrum(results, variant: "hessian"), caption: "Normalised singular values of the Hessian (tilted-covariance) matrix per family.")
        }
        page.add(spectra)
        return page
    }
}
