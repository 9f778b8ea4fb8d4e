/// The limit diagnostics of a sweep (DIR/diagnostics.json, written by the diagnostics step):
/// finite-width distances to the reference run, fitted slopes, failure signatures (theory §6) and
/// the coordinate check. Fields that are missing or of the wrong type are left empty, so an older or
/// partial file still gives the sections it can.
public struct SweepDiagnostics: Sendable {
    /// One finite-width run compared with the reference.
    public struct WidthPoint: Sendable {
        public var run: String
        public var heads: Double
        public var layers: Double
        public var seed: Double
        public var weightDecay: Double
        public var learningRate: Double
        /// Mean squared function-space distance E_x|F_M(x) − F_ref(x)|² at the end (its square root
        /// is the RMS distance, theory ∝ M^−1/2).
        public var functionDistance: Double
        /// |R_M − R_ref| at the end.
        public var riskGap: Double
        /// Sliced W2, MMD² and Sinkhorn divergence between the particle measures, per layer.
        public var particleSlicedW2: [Double]
        public var particleMMD: [Double]
        public var particleSinkhorn: [Double]
        /// The same over mean-field time (the risk gap may have its own times).
        public var curveTime: [Double]
        public var curveFunctionDistance: [Double]
        public var curveRiskGapTime: [Double]
        public var curveRiskGap: [Double]
    }

    /// One run of a depth family against the deepest run.
    public struct DepthPoint: Sendable {
        public var run: String
        public var layers: Double
        public var referenceLayers: Double
        public var heads: Double
        public var seed: Double
        /// E_x|F_L(x) − F_ref(x)|² at initialization and at the end.
        public var initialFunctionDistance: Double
        public var functionDistance: Double
        public var riskGap: Double
    }

    /// A fitted log-log slope with its 95% interval.
    public struct Fit: Sendable {
        public var quantity: String
        public var against: String
        /// The settings held fixed ("layers=2 lr=0.02 …").
        public var family: String
        public var slope: Double
        public var confidence95: [Double]
        public var theory: Double?
        public var points: Int
        public var seeds: Int

        /// Whether the family holds `flag` at `value` ("layers=2" in "layers=2 lr=0.02").
        func holds(_ flag: String, _ value: Double) -> Bool {
            family.split(separator: " ").contains { token in
                let parts = token.split(separator: "=", maxSplits: 1)
                return parts.count == 2 && parts[0] == flag && Double(parts[1]) == value
            }
        }
    }

    /// A named failure signature seen in a run, with the knob to turn (theory §6).
    public struct Signature: Sendable {
        public var name: String
        public var run: String
        public var message: String
        public var knob: String
    }

    /// Activation and update sizes of one layer (coordinate check).
    public struct Coordinate: Sendable {
        public var heads: Double
        public var layers: Double
        public var step: Double
        public var layer: Double
        public var activationRMS: Double
        public var updateRMS: Double
    }

    public var reference: String?
    public var width: [WidthPoint]
    public var depth: [DepthPoint]
    /// Runs the diagnostics skipped, with the reason.
    public var skipped: [String]
    public var fits: [Fit]
    public var signatures: [Signature]
    public var coordinates: [Coordinate]

    /// Reads the parsed diagnostics.json object.
    public init(_ object: [String: JSONValue]) {
        func number(_ value: JSONValue?) -> Double { value?.number ?? .nan }
        reference = object["reference"]?.string
        width = (object["width"]?.array ?? []).compactMap { item in
            guard item.object != nil else { return nil }
            let curve = item["curve"]
            return WidthPoint(
                run: item["run"]?.string ?? "", heads: number(item["heads"]), layers: number(item["layers"]),
                seed: number(item["seed"]), weightDecay: number(item["weight_decay"]), learningRate: number(item["lr"]),
                functionDistance: number(item["function_distance"]), riskGap: number(item["risk_gap"]),
                particleSlicedW2: item["particle_sliced_w2"]?.numbers ?? [], particleMMD: item["particle_mmd"]?.numbers ?? [],
                particleSinkhorn: item["particle_sinkhorn"]?.numbers ?? [],
                curveTime: curve?["t"]?.numbers ?? [], curveFunctionDistance: curve?["function_distance"]?.numbers ?? [],
                curveRiskGapTime: curve?["risk_gap_t"]?.numbers ?? curve?["t"]?.numbers ?? [],
                curveRiskGap: curve?["risk_gap"]?.numbers ?? [])
        }
        depth = (object["depth"]?.array ?? []).compactMap { item in
            guard item.object != nil else { return nil }
            return DepthPoint(run: item["run"]?.string ?? "", layers: number(item["layers"]), referenceLayers: number(item["reference_layers"]),
                              heads: number(item["heads"]), seed: number(item["seed"]),
                              initialFunctionDistance: number(item["initial_function_distance"]),
                              functionDistance: number(item["function_distance"]), riskGap: number(item["risk_gap"]))
        }
        skipped = (object["skipped"]?.array ?? []).compactMap(\.string)
        fits = (object["fits"]?.array ?? []).compactMap { item in
            guard let quantity = item["quantity"]?.string, let slope = item["slope"]?.number else { return nil }
            return Fit(quantity: quantity, against: item["against"]?.string ?? "", family: item["family"]?.string ?? "", slope: slope,
                       confidence95: item["confidence95"]?.numbers ?? [], theory: item["theory"]?.number,
                       points: Int(item["points"]?.number ?? 0), seeds: Int(item["seeds"]?.number ?? 0))
        }
        signatures = (object["signatures"]?.array ?? []).compactMap { item in
            guard let name = item["name"]?.string else { return nil }
            return Signature(name: name, run: item["run"]?.string ?? "", message: item["message"]?.string ?? "",
                             knob: item["knob"]?.string ?? "")
        }
        coordinates = (object["coordinates"]?.array ?? []).compactMap { item in
            guard item.object != nil else { return nil }
            return Coordinate(heads: number(item["heads"]), layers: number(item["layers"]), step: number(item["step"]),
                              layer: number(item["layer"]), activationRMS: number(item["activation_rms"]),
                              updateRMS: number(item["update_rms"]))
        }
    }
}
