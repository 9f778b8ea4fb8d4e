/// The TensorBoard tag of each metrics.jsonl key (docs/run-format.md, "tensorboard/"): grouped by
/// prefix, so that TensorBoard shows training, evaluation, optimizer, time and per-layer panels.
/// A key not listed here (a new task's metric) is logged as `metrics/<key>`; `step` is the x axis.
public enum TensorBoardTags {
    /// Tags of the numbers.
    public static let numbers: [String: String] = [
        "R": "train/risk", "Q": "train/objective", "batch_loss": "train/batch_loss",
        "train_loss": "train/loss", "train_acc": "train/accuracy",
        "eval_R": "eval/risk", "test_loss": "eval/loss", "test_acc": "eval/accuracy",
        "lr": "optim/lr", "param_norm": "optim/param_norm", "grad_norm": "optim/grad_norm",
        "t": "time/mean_field_t", "epoch": "time/epoch", "train_seconds": "time/train_seconds",
        "ntk_lambda_min": "ntk/lambda_min", "ntk_lambda_max": "ntk/lambda_max",
        "pl_constant": "ntk/pl_constant", "dissipation_rate": "ntk/dissipation_rate",
    ]

    /// Prefixes of the per-layer lists: entry ℓ of `spread_attention` is `spread/attention/layer_ℓ`.
    public static let lists: [String: String] = ["spread_attention": "spread/attention", "spread_ffn": "spread/ffn"]

    /// The tag of number `key`; nil for `step`.
    public static func tag(number key: String) -> String? {
        key == "step" ? nil : numbers[key] ?? "metrics/" + key
    }

    /// The tag of entry `layer` of list `key`.
    public static func tag(list key: String, layer: Int) -> String {
        (lists[key] ?? "metrics/" + key) + "/layer_\(layer)"
    }

    /// The (tag, value) pairs of one metrics line, sorted by tag.
    public static func scalars(numbers: [String: Double], lists: [String: [Double]]) -> [(tag: String, value: Double)] {
        var scalars = numbers.compactMap { key, value in tag(number: key).map { ($0, value) } }
        for (key, list) in lists { scalars += list.enumerated().map { (tag(list: key, layer: $0.offset), $0.element) } }
        return scalars.sorted { $0.0 < $1.0 }
    }
}
