import ArgumentParser
import Foundation
import MeanField

/// The flags of `meanfield sweep … --emit slurm` that set what the jobs ask Slurm for
/// (``SlurmResources``) and how the array is cut (docs/cluster.md).
struct SweepSlurmOptions: ParsableArguments {
    @Option(help: "Slurm: time limit of each array task and of the report job (minutes, HH:MM:SS, D-HH:MM:SS).") var time: String?
    @Option(help: "Slurm: memory per task, e.g. 4G (exclusive with --mem-per-cpu).") var mem: String?
    @Option(help: "Slurm: memory per CPU, e.g. 2G (exclusive with --mem).") var memPerCpu: String?
    @Option(help: "Slurm: partition (or a comma-separated list).") var partition: String?
    @Option(help: "Slurm: account to charge.") var account: String?
    @Option(help: "Slurm: quality of service.") var qos: String?
    @Option(help: "Slurm: any other sbatch option, one word (repeatable), e.g. --sbatch-arg=--gres=gpu:1.") var sbatchArg: [String] = []
    @Option(help: "Slurm: the site's MaxArraySize; larger sweeps are cut into several array jobs (default: scontrol show config, else \(SlurmSite.defaultMaxArraySize)).") var maxArraySize: Int?

    /// The resources, checked; throws when any is given without `--emit slurm`.
    func resources(emitting: Bool) throws -> SlurmResources {
        var given: [String] = []
        let texts: [(String, String?)] = [("--time", time), ("--mem", mem), ("--mem-per-cpu", memPerCpu), ("--partition", partition),
                                          ("--account", account), ("--qos", qos), ("--sbatch-arg", sbatchArg.first)]
        for (flag, value) in texts where value != nil { given.append(flag) }
        if maxArraySize != nil { given.append("--max-array-size") }
        if !emitting, let first = given.first {
            throw RunError("\(first) sets a Slurm job's resources: add --emit slurm, or drop it for a local sweep")
        }
        if let maxArraySize, maxArraySize < 1 {
            throw RunError("--max-array-size: expected an integer ≥ 1 (the site's MaxArraySize), got \(maxArraySize)")
        }
        return try SlurmResources(time: time, memory: mem, memoryPerCPU: memPerCpu, partition: partition, account: account, qos: qos,
                                  extraArguments: sbatchArg)
    }
}

/// Replaces this process with `executable arguments` (execv): the process id, its signals and its
/// standard streams stay, so a Slurm array task's SIGTERM reaches the run itself.
func replaceProcess(executable: String, arguments: [String]) throws -> Never {
    fflush(nil)  // every stdio stream: what print() buffered goes out before the process is replaced
    let words = ([executable] + arguments).map { strdup($0) } + [nil]
    execv(executable, words)
    throw RunError("cannot run \(executable): \(String(cString: strerror(errno)))")
}
