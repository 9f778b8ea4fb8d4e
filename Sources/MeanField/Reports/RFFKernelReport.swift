import Foundation

/// The `meanfield report` page of an rff-kernel run (a folder with kernel.jsonl): λ_min of the
/// random-feature Gram matrix against r, with the limit kernel's (theory §5).
public enum RFFKernelReport {
    public static func isRFFKernel(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/kernel.jsonl")
    }

    public static func page(path: String) throws -> HTMLPage {
        let file = path + "/kernel.jsonl"
        guard let data = FileManager.default.contents(atPath: file),
              let config = try? RunFolder.readConfig(RFFKernelConfig.self, in: path) else {
            throw RunError("\(path): cannot read kernel.jsonl and config.json; rerun meanfield rff-kernel --out \(path)")
        }
        var results = RFFKernelRun.Results(limitLambdaMin: 0, limitLambdaMax: 0, points: [])
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = (try? JSONValue.parse(String(line)))?.object, let lambdaMin = object["lambda_min"]?.number,
                  let lambdaMax = object["lambda_max"]?.number else {
                throw RunError("\(file): a line is not an rff-kernel record; rerun meanfield rff-kernel --out \(path)")
            }
            if let features = object["features"]?.number {
                results.points.append(.init(features: Int(features), lambdaMin: lambdaMin, lambdaMax: lambdaMax,
                                            limitDeviation: object["limit_deviation"]?.number ?? .nan))
            } else {
                (results.limitLambdaMin, results.limitLambdaMax) = (lambdaMin, lambdaMax)
            }
        }
        var page = HTMLPage(title: "Random-feature kernel: \(URL(fileURLWithPath: path).lastPathComponent)",
                            subtitle: "λ_min of K_r = (1/r)ΦΦᵀ as the number of features r grows, against the limit kernel (theory §5)")
        var section = HTMLPage.Section(id: "kernel", title: "Spectrum against r")
        section.figure(RFFKernelRun.chart(results, config),
                       caption: "K_r has rank ≤ r: λ_min is 0 for r < n = \(config.points) (not drawn) and approaches the limit's \(MarkupText.number(results.limitLambdaMin)) as r grows.")
        section.table(headers: ["features r", "λ_min(K_r)", "λ_max(K_r)", "max |K_r − K|"],
                      rows: results.points.map { ["\($0.features)", String(format: "%.4e", $0.lambdaMin), String(format: "%.4g", $0.lambdaMax),
                                                  String(format: "%.3e", $0.limitDeviation)] }
                        + [["limit", String(format: "%.4e", results.limitLambdaMin), String(format: "%.4g", results.limitLambdaMax), "0"]],
                      numeric: [0, 1, 2, 3])
        page.add(section)
        return page
    }
}
