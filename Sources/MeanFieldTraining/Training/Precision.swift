import MeanFieldCore

/// The scalar type a run trains in (`--precision`): every parameter, gradient, optimizer moment and
/// activation is a `Float` (float32, the default) or a `Double` (float64, for limit studies whose
/// distances fall below Float's resolution). The checkpoint's tensors are F32 or F64 to match, and
/// `manifest.json` records it as `scalar_type` (f32, f64).
public enum Precision: String, Codable, Sendable, CaseIterable {
    case float32, float64

    /// The precision of `Scalar` (`Float` → float32, `Double` → float64).
    public init<Scalar: TensorScalar>(_: Scalar.Type) {
        self = MemoryLayout<Scalar>.size == 4 ? .float32 : .float64
    }

    /// Bytes per scalar.
    public var byteSize: Int { self == .float32 ? 4 : 8 }

    /// The short name of the checkpoint's `scalar` metadata and the manifest's `scalar_type`.
    public var scalarName: String { self == .float32 ? "f32" : "f64" }

    /// The precision a checkpoint's `scalar` metadata names (f32, f64), or nil.
    public init?(scalarName: String) {
        guard let precision = Self.allCases.first(where: { $0.scalarName == scalarName }) else { return nil }
        self = precision
    }
}
