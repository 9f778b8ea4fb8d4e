import Foundation
import MeanFieldCore

/// What `meanfield diagnose` writes to `DIR/diagnostics.json` and `meanfield report` draws: the
/// limit diagnostics of theory §1.5 (C1, C2) and the failure signatures of §6 for a sweep.
public struct DiagnosticsReport: Codable, Sendable {
    /// One finite-width run against its coupled large-M reference (same seed, same everything but M).
    public struct WidthEntry: Codable, Sendable {
        public var run: String
        public var reference: String
        public var heads: Int
        public var referenceHeads: Int
        public var layers: Int
        public var seed: Int
        public var weightDecay: Double
        public var lr: Double
        /// E_x |F_M(x) − F_ref(x)|² on the evaluation prompts at the last common checkpoint.
        public var functionDistance: Double
        /// E_x |F_ref(x)|² at the same checkpoint: the scale the distance is relative to.
        public var referenceMeanSquare: Double
        /// |R_M(t) − R_ref(t)| at the last common logged step.
        public var riskGap: Double
        /// Per layer: sliced W2, MMD² (Gaussian kernel) and debiased Sinkhorn divergence between the
        /// run's head particles and the reference's, at the last common checkpoint.
        public var particleSlicedW2: [Double]
        public var particleMMD: [Double]
        public var particleSinkhorn: [Double]
        /// The same distances over mean-field time (one point per common checkpoint / metrics step).
        public var curve: Curve
        enum CodingKeys: String, CodingKey {
            case run, reference, heads, layers, seed, lr, curve
            case referenceHeads = "reference_heads", weightDecay = "weight_decay", functionDistance = "function_distance"
            case referenceMeanSquare = "reference_mean_square"
            case riskGap = "risk_gap", particleSlicedW2 = "particle_sliced_w2", particleMMD = "particle_mmd"
            case particleSinkhorn = "particle_sinkhorn"
        }
    }

    /// Distances over mean-field time t.
    public struct Curve: Codable, Sendable {
        public var t: [Double] = []
        public var functionDistance: [Double] = []
        public var riskGapT: [Double] = []
        public var riskGap: [Double] = []
        enum CodingKeys: String, CodingKey {
            case t, functionDistance = "function_distance", riskGapT = "risk_gap_t", riskGap = "risk_gap"
        }
    }

    /// One run of a depth family against the deepest run (same seed, same everything but L).
    public struct DepthEntry: Codable, Sendable {
        public var run: String
        public var reference: String
        public var layers: Int
        public var referenceLayers: Int
        public var heads: Int
        public var seed: Int
        /// E_x |F_L(x) − F_ref(x)|² at initialization and at the end of training.
        public var initialFunctionDistance: Double
        public var functionDistance: Double
        public var riskGap: Double
        enum CodingKeys: String, CodingKey {
            case run, reference, layers, heads, seed
            case referenceLayers = "reference_layers", initialFunctionDistance = "initial_function_distance"
            case functionDistance = "function_distance", riskGap = "risk_gap"
        }
    }

    /// Final objective and risk of one run of a weight-decay family.
    public struct DecayEntry: Codable, Sendable {
        public var run: String
        public var weightDecay: Double
        public var heads: Int
        public var layers: Int
        public var seed: Int
        public var finalQ: Double
        public var finalR: Double
        enum CodingKeys: String, CodingKey {
            case run, heads, layers, seed, weightDecay = "weight_decay", finalQ = "final_Q", finalR = "final_R"
        }
    }

    /// A fitted log-log slope with its 95% interval and the slope the theory predicts.
    public struct Fit: Codable, Sendable {
        public var quantity: String
        public var against: String
        /// The family the fit was made on (the config values held fixed, e.g. "layers=2").
        public var family: String
        public var slope: Double
        public var confidence95: [Double]
        public var theory: Double
        public var points: Int
        public var seeds: Int
    }

    /// A failure signature of theory §6 seen in a run, with the knob to turn.
    public struct Signature: Codable, Sendable {
        public var name: String
        public var run: String
        public var message: String
        public var knob: String
    }

    /// Per-layer sizes of the residual stream (coordinate check): at step 0 and after `step` updates.
    public struct Coordinate: Codable, Sendable {
        public var run: String
        public var heads: Int
        public var layers: Int
        public var step: Int
        public var layer: Int
        /// RMS of H^{(ℓ)} on the evaluation prompts.
        public var activationRMS: Double
        /// RMS of H^{(ℓ)}(θ_step) − H^{(ℓ)}(θ_0).
        public var updateRMS: Double
        enum CodingKeys: String, CodingKey {
            case run, heads, layers, step, layer, activationRMS = "activation_rms", updateRMS = "update_rms"
        }
    }

    /// The first width reference (nil without a width family).
    public var reference: String?
    public var width: [WidthEntry] = []
    public var depth: [DepthEntry] = []
    public var decay: [DecayEntry] = []
    public var fits: [Fit] = []
    public var signatures: [Signature] = []
    public var coordinates: [Coordinate] = []
    /// Runs skipped, with the reason (no checkpoints, image task, …).
    public var skipped: [String] = []

    public init() {}

    /// Writes `diagnostics.json` atomically into `directory`.
    public func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: directory + "/diagnostics.json"), options: .atomic)
    }
}
