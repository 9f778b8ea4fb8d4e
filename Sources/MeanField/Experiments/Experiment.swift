import Foundation

/// One experiment of theory §6 (E1–E8) as a command (`meanfield experiment run NAME`): what it
/// shows, the claim it tests, and its protocol, declared once here (one file per experiment in
/// `Catalog/`), in two settings — `quick` (minutes on 2 cores, run by the test suite) and `full`
/// (the setting behind the numbers in docs/experiments.md). ``ExperimentRunner`` runs a protocol:
/// its steps in order (sweeps, single runs, VarPro, NTK and random-feature-kernel checks), the
/// limit diagnostics (a sweep writes them) and a report of every step's folder.
public struct Experiment: Sendable {
    /// "E1" … "E8".
    public let id: String
    /// A few words: "propagation of chaos".
    public let title: String
    /// The claim or section of docs/theory.md it tests: "claim C1 (theory §1.5, §6 E2)".
    public let claim: String
    /// What the experiment shows, one or two sentences.
    public let shows: String
    /// Where its figure is (relative to the experiment's folder) and what it shows.
    public let figure: String
    /// The documented result of `full`, with its interval, and where it is written up.
    public let result: String
    /// Wall time of `quick`, measured on this project's 2 shared cores (see docs/experiments.md).
    public let quickTime: String
    /// Wall time of `full`, as recorded in the docs.
    public let fullTime: String
    public let quick: [ExperimentStep]
    public let full: [ExperimentStep]
    /// A fit the runner computes over the whole experiment after its steps (E3's slope across its per-λ sweeps).
    public let analysis: Analysis?

    /// A fit made across the steps' folders.
    public enum Analysis: Sendable {
        /// Per-seed log-log slope of the final regularised risk Q against λ (``WeightDecayStudy``).
        case weightDecaySlope
    }

    public init(id: String, title: String, claim: String, shows: String, figure: String, result: String,
                quickTime: String, fullTime: String, quick: [ExperimentStep], full: [ExperimentStep], analysis: Analysis? = nil) {
        (self.id, self.title, self.claim, self.shows, self.figure, self.result) = (id, title, claim, shows, figure, result)
        (self.quickTime, self.fullTime, self.quick, self.full, self.analysis) = (quickTime, fullTime, quick, full, analysis)
    }

    /// The protocol of a setting.
    public func steps(_ setting: Setting) -> [ExperimentStep] { setting == .quick ? quick : full }

    /// `--quick` or `--full`.
    public enum Setting: String, Sendable, CaseIterable { case quick, full }

    /// E1–E8, in order.
    public static let all: [Experiment] = [.e1, .e2, .e3, .e4, .e5, .e6, .e7, .e8]

    /// The experiment named `name` ("E2", "e2" or "2"), or one line listing the names.
    public static func named(_ name: String) throws -> Experiment {
        let key = name.uppercased().hasPrefix("E") ? name.uppercased() : "E" + name
        guard let experiment = all.first(where: { $0.id == key }) else {
            throw RunError("experiment '\(name)' is unknown; pass one of \(all.map(\.id).joined(separator: ", ")) (meanfield experiment list)")
        }
        return experiment
    }
}

/// One step of an experiment's protocol: a `meanfield` subcommand with its arguments, writing to
/// `OUT/folder` (`--out` is added by the runner), followed by `meanfield report OUT/folder`.
public struct ExperimentStep: Sendable, Equatable {
    /// The subcommand that writes the folder.
    public enum Command: String, Sendable {
        case sweep, train, varpro
        case ntkCheck = "ntk-check"
        case rffKernel = "rff-kernel"
    }

    public let command: Command
    /// The folder under the experiment's `--out` ("" = `--out` itself).
    public let folder: String
    /// The subcommand's arguments, without `--out` (and, for sweeps, without `--parallel` and
    /// `--threads-per-run`, which the runner sets).
    public let arguments: [String]
    /// A step whose runs are expected to fail (E8's linear scores at τ = 1 diverge): its failure is
    /// reported, and the experiment goes on.
    public let mayFail: Bool

    public init(_ command: Command, _ folder: String, _ arguments: [String], mayFail: Bool = false) {
        (self.command, self.folder, self.arguments, self.mayFail) = (command, folder, arguments, mayFail)
    }

    /// A sweep step from one string of flags ("--heads 4,16 --layers 2"), split at spaces.
    public static func sweep(_ folder: String, _ flags: String, mayFail: Bool = false) -> ExperimentStep {
        ExperimentStep(.sweep, folder, words(flags), mayFail: mayFail)
    }

    /// A single `meanfield train` run.
    public static func train(_ folder: String, _ flags: String) -> ExperimentStep { ExperimentStep(.train, folder, words(flags)) }

    /// Another subcommand (varpro, ntk-check, rff-kernel).
    public static func run(_ command: Command, _ folder: String, _ flags: String) -> ExperimentStep {
        ExperimentStep(command, folder, words(flags))
    }

    static func words(_ text: String) -> [String] { text.split(whereSeparator: \.isWhitespace).map(String.init) }

    /// The step's folder under `out`.
    public func path(in out: String) -> String { folder.isEmpty ? out : out + "/" + folder }
}
