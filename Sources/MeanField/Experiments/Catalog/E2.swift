extension Experiment {
    /// E2 (theory §6, claim C1): propagation of chaos — the width study (docs/experiments.md, E2;
    /// was experiments/e2_propagation_of_chaos.sh).
    static let e2 = Experiment(
        id: "E2", title: "propagation of chaos: the width study", claim: "claim C1 (theory §1.5, §6 E2)",
        shows: "Attention-only Transformers at several M, each coupled to the largest-M reference (same seed, its first M initial heads), "
            + "several seeds: the RMS function-space distance to the reference against M, fitted on log-log axes with a 95% interval "
            + "over seeds (theory: slope −1/2).",
        figure: "report.html: RMS function-space distance vs M with the fitted slope, its interval and the −1/2 reference line",
        result: "slope −0.417 [−0.446, −0.388] at L = 2 (excludes −1/2) and −0.430 [−0.548, −0.312] at L = 8 (95% t-intervals over 5 seeds, 1,024 prompts; docs/experiments.md, E2)",
        quickTime: "1.8 min", fullTime: "85 min",
        quick: [.sweep("", """
            --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 4,8,16,64 --layers 2 --ffn-units 0 \
            --seeds 3 --optimizer euler --lr 0.05 --steps 60 --log-every 10 --checkpoint-every 30
            """)],
        full: [.sweep("", """
            --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 4,16,64,256 --layers 2,8 --ffn-units 0 \
            --seeds 5 --optimizer euler --lr 0.05 --steps 100 --log-every 10 --checkpoint-every 25
            """)])
}
