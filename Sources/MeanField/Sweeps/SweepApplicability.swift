import Foundation

// Grids over anything (`--optimizer euler,sgd`, `--task`, `--model`): a fixed flag that does not
// apply to some runs of the grid is dropped for those runs and recorded in their config
// (README, `meanfield sweep`; docs/run-format.md, `dropped_keys`).

extension SweepGrid {
    /// `runs` with each fixed flag left out of the runs it does not apply to (``TrainKey/applies(to:)``:
    /// the run's task and model, and the other key's value a key needs, as `meanfield train` judges
    /// them), and kept in their ``SweepRun/dropped``.
    ///
    /// A fixed flag that applies to no run of the grid is kept everywhere, so that the sweep refuses
    /// it before anything runs, as `meanfield train` does (a typo or a misunderstanding, not a grid
    /// over settings). Axis values are never dropped. A run whose config cannot be built (a bad
    /// value, a missing `--config` file) keeps its flags: ``SweepRunner/checkRuns()`` reports it.
    func droppingInapplicableFixedFlags(_ runs: [SweepRun]) -> [SweepRun] {
        let candidates = fixed.filter { TrainKeys[$0.flag] != nil }
        guard !candidates.isEmpty else { return runs }
        let inapplicable: [Set<SweepFlag>] = runs.map { run in
            guard let config = try? TrainInvocation.parse(Self.trainArguments(run.flags)).configBeforeChecks() else { return [] }
            return Set(candidates.filter { !TrainKeys[$0.flag]!.applies(to: config) })
        }
        let appliesSomewhere = Set(candidates.filter { flag in inapplicable.contains { !$0.contains(flag) } })
        return zip(runs, inapplicable).map { run, flags in
            let dropped = run.flags.filter { flags.contains($0) && appliesSomewhere.contains($0) }
            return SweepRun(name: run.name, flags: run.flags.filter { !dropped.contains($0) }, dropped: dropped)
        }
    }
}

extension SweepManifest {
    /// One console line per fixed flag dropped from some runs: "--momentum 0.5 does not apply to 2
    /// of 4 runs (optimizer-euler_seed-0, …); dropped for them, recorded in their config.json (dropped_keys)".
    public var droppedFlagNotes: [String] {
        grid.fixed.compactMap { flag in
            let names = runs.filter { $0.dropped.contains(flag) }.map(\.name)
            guard !names.isEmpty else { return nil }
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
            return "--\(flag.flag) \(flag.value) does not apply to \(names.count) of \(runs.count) runs (\(shown)); "
                + "dropped for them, recorded in their config.json (dropped_keys)"
        }
    }
}

extension SweepRun {
    /// The train flag that records the dropped flags in the run's config.json (`dropped_keys`,
    /// ``TrainConfig/droppedKeys``): `--dropped-keys momentum=0.5,beta1=0.95`; none when nothing was dropped.
    public var droppedRecord: [SweepFlag] {
        dropped.isEmpty ? [] : [SweepFlag("dropped-keys", dropped.map { "\($0.flag)=\($0.value)" }.joined(separator: ","))]
    }
}
