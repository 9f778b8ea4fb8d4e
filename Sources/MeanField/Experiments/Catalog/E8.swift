extension Experiment {
    /// E8 (theory §6, partial homogeneity): activations and score maps (docs/experiments.md, E8;
    /// was experiments/e8_homogeneity.sh). Raw linear scores (τ = 1) overflow at initialization, so
    /// that sweep may fail; a second one runs linear attention with τ = 21 and a smaller step.
    static let e8 = Experiment(
        id: "E8", title: "partial homogeneity: activations and score maps", claim: "theory §6 E8",
        shows: "The same task and width with each feed-forward activation (ReLU, GELU, sigmoid, tanh) and each score map (softmax, linear): "
            + "loss over mean-field time per choice; linear scores, unbounded, break the assumptions.",
        figure: "report.html: loss per activation (softmax); linear/report.html: linear attention at τ = 21",
        result: "softmax: all four activations reach R ≈ 10⁻⁵–10⁻⁷ by t = 15; linear attention diverges at η = 0.05 and does not generalise (docs/experiments.md, E8)",
        quickTime: "1 min (estimated)", fullTime: "4 min",
        quick: [
            .sweep("", quickHomogeneity + " --activation relu,tanh --lr 0.05 --steps 100"),
            .sweep("linear", quickHomogeneity + " --activation relu,tanh --lr 0.002 --steps 100 --score linear --temperature 21"),
        ],
        full: [
            .sweep("", homogeneity + " --lr 0.05 --steps 300 --score softmax,linear", mayFail: true),
            .sweep("linear", homogeneity + " --lr 0.002 --steps 500 --score linear --temperature 21"),
        ])

    /// The quick protocol's: the full model, two activations, 100 steps.
    static let quickHomogeneity = "--task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 16 --ffn-units 16 "
        + "--layers 8 --optimizer euler --log-every 10 --checkpoint-every 100"

    /// The full protocol's task and model (M = M′ = 16, L = 8, every activation).
    static let homogeneity = "--task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 16 --ffn-units 16 "
        + "--layers 8 --activation relu,gelu,sigmoid,tanh --optimizer euler --log-every 10 --checkpoint-every 100"
}
