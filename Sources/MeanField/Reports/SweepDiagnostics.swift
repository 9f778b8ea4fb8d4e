/// The limit diagnostics of a sweep (DIR/diagnostics.json, written by the diagnostics step):
/// finite-width distances to the reference run, fitted slopes, failure signatures (PAPERS §6) and
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
        /// RMS function-space distance E_x|F_M(x) − F_ref(x)|² (as written) at the end.
        public var functionDistance: Double
        /// |R_M − R_ref| at the end.
        public var riskGap: Double
        /// Sliced W2 between the particle measures, per layer.
        public var particleSlicedW2: [Double]
        /// The same over mean-field time.
        public var curveTime: [Double]
        public var curveFunctionDistance: [Double]
        public var curveRiskGap: [Double]
    }

    /// A fitted log-log slope with its 95% interval.
    public struct Fit: Sendable {
        public var quantity: String
        public var against: String
        public var slope: Double
        public var confidence95: [Double]
        public var theory: Double?
        public var points: Int
    }

    /// A named failure signature seen in a run, with the knob to turn (PAPERS §6).
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
                particleSlicedW2: item["particle_sliced_w2"]?.numbers ?? [],
                curveTime: curve?["t"]?.numbers ?? [], curveFunctionDistance: curve?["function_distance"]?.numbers ?? [],
                curveRiskGap: curve?["risk_gap"]?.numbers ?? [])
        }
        fits = (object["fits"]?.array ?? []).compactMap { item in
            guard let quantity = item["quantity"]?.string, let slope = item["slope"]?.number else { return nil }
            return Fit(quantity: quantity, against: item["against"]?.string ?? "", slope: slope,
                       confidence95: item["confidence95"]?.numbers ?? [], theory: item["theory"]?.number,
                       points: Int(item["points"]?.number ?? 0))
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
