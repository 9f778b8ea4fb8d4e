import Foundation
import MeanFieldCore

/// The inputs the limit diagnostics evaluate a run's model on: the run's own evaluation set, in
/// `Double` (theory §1.5; docs/run-format.md, diagnostics.json).
///
/// - **icl-regression**: prompts of the run's evaluation stream (``RegressionData/evalStream``),
///   drawn as the run drew them — in its `--precision` (`Float` or `Double`), then
///   widened — so that with `count == eval-size` they are exactly the prompts of `eval_R`.
/// - **teacher-regression**: points of the run's evaluation stream (``TeacherRegression/evalStream``),
///   likewise; the first `eval-size` inputs are those of `eval_R` whatever the count.
/// - **image tasks**: the run's test subset (`test-subset` images, class-balanced with the run's
///   seed; 0 = the whole test set), normalised with the statistics of the run's training subset,
///   as the run's `test_loss` and `test_acc` saw it.
///
/// `evalSize` (`meanfield diagnose --eval-size`, 0 = the run's own set as it is): a regression
/// run with a smaller `eval-size` is measured on that many draws of the same stream (its own set
/// when equal; a larger eval-size wins); an image run whose test subset is larger is measured on the
/// class-balanced subset of that many test images under its seed, which lies inside its test subset
/// (the same shuffle, fewer per class). Two runs of one family (same seed and data keys) get the
/// same sample, so their distances pair sample by sample.
public struct EvaluationSample: Sendable {
    /// Tokens `[n, D, N+1]` (icl-regression), points `[n, d]` (teacher-regression) or images `[n, C, H, W]`.
    public let inputs: Tensor<Double>
    /// Regression targets `[n]` (icl-regression) or `[n, 1]` (teacher-regression); `[0]` for images.
    public let targets: Tensor<Double>
    /// Image labels (empty for regression).
    public let labels: [Int]
    /// Where the sample comes from, in words (for reports).
    public let source: String

    /// Samples n.
    public var count: Int { inputs.shape[0] }

    /// The sample of a run with `config`, drawn in its precision (``TrainConfig/precision``);
    /// `doublePrecision`: drawn in Double whatever the config says.
    public init(config: TrainConfig, evalSize: Int = 0, doublePrecision: Bool = false) throws {
        let doublePrecision = doublePrecision || config.precision == .float64
        if config.isImageTask {
            let splits = try ImageTrainer.loadSplits(config)
            let train = config.subset > 0 ? try splits.train.classBalancedSubset(size: config.subset, seed: config.seed) : splits.train
            var test = config.testSubset > 0 ? try splits.test.classBalancedSubset(size: config.testSubset, seed: config.seed) : splits.test
            let own = test.count
            if evalSize > 0 && test.count > evalSize {
                // The class-balanced subset of the same shuffle (seed) with fewer images: part of the run's test subset.
                test = try splits.test.classBalancedSubset(size: evalSize, seed: config.seed)
            }
            let images = test.floatImages(normalization: ChannelNormalization.fitted(to: train))
            inputs = images.converted(to: Double.self)
            targets = .zeros([0])
            labels = test.labels
            source = test.count == own ? "the run's \(own) test images (test_acc's)"
                : "\(test.count) of the run's \(own) test images (class-balanced, the run's seed; --eval-size \(own) for all)"
            return
        }
        let count = max(config.evalSize, evalSize)
        let own = count == config.evalSize
        labels = []
        if config.model == .transformer {
            let task = InContextRegression(inputDimension: config.inputDim, examples: config.examples, noise: config.noise,
                                           tokenDimension: config.tokenDim ?? config.inputDim + 1)
            var random = PhiloxRandom(seed: config.seed, stream: RegressionData<Float>.evalStream)
            if doublePrecision {
                (inputs, targets) = task.sample(count, random: &random, as: Double.self)
            } else {
                let drawn = task.sample(count, random: &random, as: Float.self)
                (inputs, targets) = (drawn.tokens.converted(to: Double.self), drawn.targets.converted(to: Double.self))
            }
            source = own ? "the run's \(count) evaluation prompts (eval_R's)"
                : "\(count) prompts of the run's evaluation stream (its eval-size is \(config.evalSize); train with --eval-size \(count) to make them eval_R's)"
        } else {
            let teacher = TeacherRegression(inputDimension: config.inputDim, noise: config.noise, seed: config.seed)
            var random = PhiloxRandom(seed: config.seed, stream: TeacherRegression.evalStream)
            if doublePrecision {
                (inputs, targets) = teacher.sample(count, random: &random)
            } else {
                let drawn: (inputs: Tensor<Float>, targets: Tensor<Float>) = teacher.sample(count, random: &random)
                (inputs, targets) = (drawn.inputs.converted(to: Double.self), drawn.targets.converted(to: Double.self))
            }
            source = own ? "the run's \(count) evaluation points (eval_R's)"
                : "\(count) points of the run's evaluation stream (the first \(config.evalSize) are eval_R's)"
        }
    }

    /// Samples `range` of the set: inputs, regression targets (nil for images) and labels.
    func slice(_ range: Range<Int>) -> (inputs: Tensor<Double>, targets: Tensor<Double>?, labels: [Int]) {
        (inputs.slice(axis: 0, range), labels.isEmpty ? targets.slice(axis: 0, range) : nil,
         labels.isEmpty ? [] : Array(labels[range]))
    }
}

/// The mean of per-sample values and its standard error s/√n (s the sample standard deviation;
/// NaN for fewer than two values).
public func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    guard values.count >= 2 else { return (mean, .nan) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    return (mean, (variance / n).squareRoot())
}
