import Foundation

/// E3's fit (theory §6, claim C2) over a weight-decay study run as one sweep per λ (each λ has its
/// own number of steps, so the runs are not one sweep family): per seed, the least-squares slope of
/// log final Q against log λ over all λ; their mean with a Student-t 95% interval over seeds
/// (``LogLogFit/acrossSeeds(x:ySeeds:)``) and the verdict against the theory's 1 (``SlopeVerdict``).
/// The same numbers as the "final Q" line of experiments/e3_fit.py.
public struct WeightDecayStudy: Sendable {
    /// One finished run: its λ, seed and final Q and R.
    public struct Point: Sendable, Equatable {
        public var lambda: Double
        public var seed: Int
        public var finalQ: Double
        public var finalR: Double
        public init(lambda: Double, seed: Int, finalQ: Double, finalR: Double) {
            (self.lambda, self.seed, self.finalQ, self.finalR) = (lambda, seed, finalQ, finalR)
        }
    }

    /// The λ values, ascending.
    public let lambdas: [Double]
    /// The seeds that have a finished run at every λ (the ones fitted).
    public let seeds: [Int]
    /// Each fitted seed's slope, in `seeds` order.
    public let seedSlopes: [Double]
    public let fit: LogLogFit
    public let verdict: SlopeVerdict
    /// Per λ: the mean final Q and R over the fitted seeds.
    public let meanQ: [Double]
    public let meanR: [Double]

    /// The fit of `points` (at least 3 λ; seeds missing a λ are left out).
    public init(points: [Point]) throws {
        let lambdas = Array(Set(points.map(\.lambda))).sorted()
        guard lambdas.count >= 3 else {
            throw RunError("weight-decay fit: \(lambdas.count) value\(lambdas.count == 1 ? "" : "s") of λ finished; a slope with an interval needs 3")
        }
        var rows: [(seed: Int, q: [Double], r: [Double])] = []
        for seed in Array(Set(points.map(\.seed))).sorted() {
            let runs = lambdas.compactMap { lambda in points.first { $0.seed == seed && $0.lambda == lambda } }
            if runs.count == lambdas.count { rows.append((seed, runs.map(\.finalQ), runs.map(\.finalR))) }
        }
        guard !rows.isEmpty else { throw RunError("weight-decay fit: no seed has a finished run at every λ (\(lambdas.map { "\($0)" }.joined(separator: ", "))); finish the runs first") }
        self.lambdas = lambdas
        seeds = rows.map(\.seed)
        seedSlopes = try rows.map { try LogLogFit.fit(x: lambdas, y: $0.q).slope }
        fit = try LogLogFit.acrossSeeds(x: lambdas, ySeeds: rows.map(\.q))
        verdict = try SlopeVerdict.decide(fit, theory: 1, seeds: rows.count)
        meanQ = lambdas.indices.map { i in rows.map { $0.q[i] }.reduce(0, +) / Double(rows.count) }
        meanR = lambdas.indices.map { i in rows.map { $0.r[i] }.reduce(0, +) / Double(rows.count) }
    }

    /// The finished runs of every sweep under `directory` (`directory/*/runs/*`: E3's `lambda-λ/`
    /// folders) with λ > 0; `unfinished` counts the others.
    public static func points(in directory: String, unfinished: inout Int) throws -> [Point] {
        let sweeps = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { directory + "/" + $0 }
            .filter { SweepRecords.isSweep($0) }
        guard !sweeps.isEmpty else { throw RunError("\(directory): no sweep folders (lambda-λ/); run meanfield experiment run E3 first") }
        var points: [Point] = []
        for sweep in sweeps {
            for path in try LimitDiagnostics.runDirectories(in: sweep) {
                let run = try RunRecord(path: path)
                guard run.status == "completed", run.config.weightDecay > 0, let q = run.last("Q"), let r = run.last("R") else {
                    unfinished += 1
                    continue
                }
                points.append(Point(lambda: run.config.weightDecay, seed: Int(run.config.seed), finalQ: q, finalR: r))
            }
        }
        return points
    }

    /// The lines the experiment prints: per λ the mean final Q, R and Q/λ, then the slope and its verdict.
    public var description: String {
        var lines = ["E3 fit over \(seeds.count) seed\(seeds.count == 1 ? "" : "s") (\(seeds.map(String.init).joined(separator: ", "))):"]
        for (i, lambda) in lambdas.enumerated() {
            lines.append(String(format: "  λ = %-6g final Q %.4g, final R %.3g, Q/λ %.3g (means over seeds)", lambda, meanQ[i], meanR[i], meanQ[i] / lambda))
        }
        lines.append("  slope of log final Q vs log λ: " + verdict.text)
        lines.append("  per seed: " + seedSlopes.map { String(format: "%.3f", $0) }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
