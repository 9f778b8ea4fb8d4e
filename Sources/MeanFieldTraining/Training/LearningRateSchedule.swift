import Foundation
import MeanFieldModels

/// The shape of a learning-rate schedule η_k (k = 0, 1, … the update index).
public enum ScheduleShape: String, Codable, Sendable, CaseIterable {
    /// η_k = η.
    case constant
    /// Cosine decay from η to η_min over the steps after the warmup.
    case cosine
    /// Linear warmup over `warmupSteps`, then constant (the same as `constant` with a warmup).
    case warmup
    /// Step decay: η·γ^⌊(k − warmup)/S⌋.
    case step
}

/// A learning-rate schedule. Mean-field time advances by η_k at update k, so a run's clock is
/// t = Σ_{i<k} η_i (theory §1.4), whatever the schedule.
public struct LearningRateSchedule: Sendable, Equatable {
    public var shape: ScheduleShape
    /// Peak rate η.
    public var baseRate: Double
    /// Updates of linear warmup from η/W up to η (any shape; 0 = none).
    public var warmupSteps: Int
    /// Floor η_min of the cosine shape.
    public var minimumRate: Double
    /// Decay interval S and factor γ of the step shape.
    public var decayEvery: Int
    public var decayFactor: Double
    /// Total updates (the cosine shape reaches η_min at the last one).
    public var totalSteps: Int

    public init(shape: ScheduleShape = .constant, baseRate: Double, warmupSteps: Int = 0, minimumRate: Double = 0,
                decayEvery: Int = 1000, decayFactor: Double = 0.1, totalSteps: Int) {
        self.shape = shape
        self.baseRate = baseRate
        self.warmupSteps = warmupSteps
        self.minimumRate = minimumRate
        self.decayEvery = decayEvery
        self.decayFactor = decayFactor
        self.totalSteps = totalSteps
    }

    /// η_k for update k (0-based).
    public func rate(atUpdate k: Int) -> Double {
        if k < warmupSteps { return baseRate * Double(k + 1) / Double(warmupSteps) }
        let after = k - warmupSteps
        switch shape {
        case .constant, .warmup:
            return baseRate
        case .cosine:
            let span = max(1, totalSteps - warmupSteps - 1)
            let progress = min(1, Double(after) / Double(span))
            return minimumRate + (baseRate - minimumRate) * 0.5 * (1 + cos(Double.pi * progress))
        case .step:
            return baseRate * pow(decayFactor, Double(after / max(1, decayEvery)))
        }
    }
}
