import Foundation
import MeanFieldCore

/// The probe directions a_1..a_P at which the functions g_k are sampled (theory §2: P ≫ K, several
/// scales). Direction p is `scales[p mod S] · u_p / √d` with u_p ~ N(0, I_d): near the origin g_k is
/// close to its quadratic (covariance) part, far out it sees the extreme tokens.
public enum ProbeDirections {
    /// `count` directions in R^`dimension`, row-major count × d, from a Philox stream of `seed`.
    public static func sample(count: Int, dimension d: Int, scales: [Double], seed: UInt64) -> [Double] {
        var random = PhiloxRandom(seed: seed, stream: 0xD12EC7)
        var directions = (random.normal([count * d]) as Tensor<Double>).scalars
        let norm = 1 / Double(d).squareRoot()
        for p in 0..<count { for c in 0..<d { directions[p * d + c] *= scales[p % scales.count] * norm } }
        return directions
    }
}
