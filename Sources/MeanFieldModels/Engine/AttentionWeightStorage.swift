/// Where the fused engine keeps each layer's attention weights A = map(scale·scores) (theory §1.2)
/// between the forward pass and the backward pass, which needs them.
///
/// Kept, they take L·B·M·n² scalars: 35 MB for the default ViT, 1.6 GB for a 12-layer, 4-head ViT on
/// 2×2 CIFAR patches (n = 257, B = 128). Recomputed, they take one n×n slot per sequence (M·n² with merged
/// heads), shared by every layer, and the backward pass runs the score product and the score map
/// again per (sequence, head): the same bits as the kept weights (same kernels, same order), more
/// time (benchmarks/RESULTS.md, "Attention weights kept or recomputed").
public enum AttentionWeightStorage: String, Sendable, CaseIterable {
    /// Kept unless that would take more than ``FusedShape/keptAttentionLimit`` scalars.
    case automatic
    /// Kept per layer from the forward pass.
    case kept
    /// Recomputed in the backward pass.
    case recomputed
}
