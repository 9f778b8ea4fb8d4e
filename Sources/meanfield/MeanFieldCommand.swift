import ArgumentParser
import MeanField

/// The `meanfield` command-line tool: a thin layer that parses flags and calls the MeanField library.
@main
struct MeanFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meanfield",
        abstract: "Train Transformers, ResNets and two-layer nets in the mean-field regime.",
        version: MeanFieldVersion.versionLine,
        subcommands: [Demo.self, ExperimentCommand.self, Train.self, AdjointCheck.self, Bench.self, Sweep.self, Diagnose.self, Report.self, NTKCheck.self, RFFKernel.self, VarPro.self]
    )

    /// Every command stops within seconds of SIGINT or SIGTERM, even when its launcher blocked them
    /// (``ProcessSetup/unblock(signals:)``): first thing, before the arguments are parsed.
    static func main() {
        ProcessSetup.unblock()
        main(nil)
    }
}
