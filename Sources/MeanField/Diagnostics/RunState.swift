import Foundation
import MeanFieldCore

extension RunRecord {
    /// The parameters at a checkpoint step, in `Double`, with the mean-field time t of that step
    /// (step 0 is regenerated from the seed when the run did not save it: initial particles are a
    /// pure function of the config, theory §1.4). Reads float32 and float64 runs (`--precision`).
    public func state(atStep step: Int) throws -> (store: ParameterStore<Double>, time: Double) {
        switch config.precision {
        case .float32: return try state(atStep: step, as: Float.self)
        case .float64: return try state(atStep: step, as: Double.self)
        }
    }

    /// ``state(atStep:)`` of a run trained in `Scalar`.
    private func state<Scalar: TensorScalar>(atStep step: Int, as _: Scalar.Type) throws -> (store: ParameterStore<Double>, time: Double) {
        if let entry = checkpoints.first(where: { $0.step == step }) {
            let checkpoint = try TrainingCheckpoint<Scalar>.read(path: entry.path)
            return (checkpoint.parameters.converted(to: Double.self), checkpoint.meanFieldTime)
        }
        guard step == 0 else { throw RunError("\(path): no checkpoint at step \(step) (has \(checkpoints.map(\.step)))") }
        // Philox normals in Float differ from Double's: draw in the run's scalar type, then widen.
        let initial: ParameterStore<Scalar> = config.initialParameters()
        return (initial.converted(to: Double.self), 0)
    }
}

extension RunRecord {
    /// Whether the run diverged: its summary says so, or a logged loss (R, or the training loss of
    /// an image run) is NaN or ±∞. Diverged runs are left out of every fit and axis range and
    /// drawn as marked points at the edge of a plot (docs/reports.md).
    public var hasDiverged: Bool {
        if status == "diverged" { return true }
        let key = isImageRun ? "train_loss" : "R"
        return metrics.contains { record in record[key].map { !$0.isFinite } ?? false }
    }
}
