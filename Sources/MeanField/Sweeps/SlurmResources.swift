import Foundation

/// What the Slurm jobs of `meanfield sweep … --emit slurm` ask the scheduler for: time limit,
/// memory (per job or per CPU, not both), partition, account, QOS and free `sbatch` options. Each
/// becomes one `#SBATCH` line of the array script and of the report job (docs/cluster.md).
///
/// Checked when made, so that a typo fails at emit time with one line naming the flag instead of
/// at `sbatch` time on the cluster.
public struct SlurmResources: Sendable, Equatable {
    /// `--time`: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED.
    public var time: String?
    /// `--mem`: memory per node, an integer with an optional unit K, M, G or T (Slurm's default unit: M).
    public var memory: String?
    /// `--mem-per-cpu`: memory per allocated CPU, same form as ``memory``.
    public var memoryPerCPU: String?
    /// `--partition`: one name or a comma-separated list.
    public var partition: String?
    public var account: String?
    public var qos: String?
    /// Free `sbatch` options, each one word as it would follow `#SBATCH` (`--gres=gpu:1`, `--exclusive`).
    public var extraArguments: [String]

    /// Validates every value; throws a ``RunError`` naming the flag and the accepted form.
    public init(time: String? = nil, memory: String? = nil, memoryPerCPU: String? = nil, partition: String? = nil,
                account: String? = nil, qos: String? = nil, extraArguments: [String] = []) throws {
        if memory != nil && memoryPerCPU != nil {
            throw RunError("--mem and --mem-per-cpu are exclusive (Slurm refuses both): give one")
        }
        if let time, !Self.matches(time, #"^([0-9]+|[0-9]+:[0-9]{1,2}|[0-9]+:[0-9]{1,2}:[0-9]{1,2}|[0-9]+-[0-9]+(:[0-9]{1,2}(:[0-9]{1,2})?)?|UNLIMITED|INFINITE)$"#) {
            throw RunError("--time: expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 2:00:00), got '\(time)'")
        }
        for (flag, value) in [("--mem", memory), ("--mem-per-cpu", memoryPerCPU)] {
            if let value, !Self.matches(value, "^[0-9]+[KMGTkmgt]?$") {
                throw RunError("\(flag): expected an integer with an optional unit K, M, G or T (e.g. 4G), got '\(value)'")
            }
        }
        let name = "[A-Za-z0-9_.+-]+"
        for (flag, value, pattern) in [("--partition", partition, "^\(name)(,\(name))*$"), ("--account", account, "^\(name)$"), ("--qos", qos, "^\(name)$")] {
            if let value, !Self.matches(value, pattern) {
                throw RunError("\(flag): expected a Slurm name (letters, digits, _ . + -\(flag == "--partition" ? ", a comma-separated list" : "")), got '\(value)'")
            }
        }
        for argument in extraArguments { try Self.checkExtra(argument) }
        self.time = time
        self.memory = memory
        self.memoryPerCPU = memoryPerCPU
        self.partition = partition
        self.account = account
        self.qos = qos
        self.extraArguments = extraArguments
    }

    /// No resources: the site's defaults.
    public static let none = SlurmResources(unchecked: ())

    private init(unchecked: Void) { extraArguments = [] }

    /// The `sbatch` options, in a fixed order: the dedicated ones, then the free ones as given.
    public var directives: [String] {
        let named: [(String, String?)] = [("--time", time), ("--mem", memory), ("--mem-per-cpu", memoryPerCPU),
                                          ("--partition", partition), ("--account", account), ("--qos", qos)]
        return named.compactMap { flag, value in value.map { "\(flag)=\($0)" } } + extraArguments
    }

    /// Options the emitted scripts set themselves, or that have a flag of their own: refused in
    /// `--sbatch-arg`, with the flag to use instead.
    static let reservedOptions: [String: String] = [
        "--array": "the array covers every run (split by --max-array-size); --parallel sets its %throttle",
        "-a": "the array covers every run (split by --max-array-size); --parallel sets its %throttle",
        "--cpus-per-task": "use --threads-per-run", "-c": "use --threads-per-run",
        "--output": "task logs go to DIR/runs/", "-o": "task logs go to DIR/runs/",
        "--error": "task logs go to DIR/runs/", "-e": "task logs go to DIR/runs/",
        "--chdir": "the scripts run in the folder meanfield sweep was run in", "-D": "the scripts run in the folder meanfield sweep was run in",
        "--job-name": "the name comes from the sweep folder", "-J": "the name comes from the sweep folder",
        "--dependency": "submit.sh chains the report job", "-d": "submit.sh chains the report job",
        "--signal": "the array asks for SIGTERM 120 s before its time limit", "--requeue": "the array is requeueable already",
        "--no-requeue": "a stopped task must requeue to resume", "--open-mode": "task logs are appended to across requeues",
        "--ntasks": "each array task is one process", "-n": "each array task is one process",
        "--time": "use --time", "-t": "use --time", "--mem": "use --mem", "--mem-per-cpu": "use --mem-per-cpu",
        "--partition": "use --partition", "-p": "use --partition", "--account": "use --account", "-A": "use --account",
        "--qos": "use --qos", "-q": "use --qos",
    ]

    static func checkExtra(_ argument: String) throws {
        guard argument.hasPrefix("-"), argument.count > 1 else {
            throw RunError("--sbatch-arg: expected an sbatch option such as --gres=gpu:1 or --exclusive, got '\(argument)'")
        }
        if argument.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw RunError("--sbatch-arg: '\(argument.debugDescription)' has a control character (a newline would end the #SBATCH line)")
        }
        let option = String(argument.prefix { $0 != "=" })
        let short = option.count > 2 && !option.hasPrefix("--") ? String(option.prefix(2)) : option
        if let reason = reservedOptions[option] ?? reservedOptions[short] {
            throw RunError("--sbatch-arg \(argument): \(option) is set by meanfield sweep (\(reason))")
        }
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }
}
