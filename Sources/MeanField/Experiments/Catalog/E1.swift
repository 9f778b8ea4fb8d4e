extension Experiment {
    /// E1 (theory §6): in-context linear regression, loss per width and depth on one mean-field time
    /// axis, and learning-rate transfer (docs/experiments.md, E1; was experiments/e1_icl_regression.sh).
    static let e1 = Experiment(
        id: "E1", title: "in-context regression and learning-rate transfer", claim: "theory §1.4, §1.6 (one time axis), §6 E1",
        shows: "Euler gradient flow on in-context linear regression (d = 5, N = 20) for every width M and depth L at four step sizes: "
            + "the loss curves per M on one mean-field time axis, and whether the best η moves with M and L (it should not).",
        figure: "report.html: loss vs mean-field time per M, and final training risk vs η per M and per L",
        result: "the best η is the largest tried (0.2) at every M ∈ {4, 16, 64} and L ∈ {2, 8}, none diverged (docs/experiments.md, E1)",
        quickTime: "35 s", fullTime: "5 min",
        quick: [.sweep("", """
            --task icl-regression --input-dim 5 --examples 20 --train-size 32 --eval-size 64 --heads 4,16 --layers 2,4 --ffn-units 8 \
            --optimizer euler --lr 0.05,0.2 --steps 100 --log-every 10 --checkpoint-every 100
            """)],
        full: [.sweep("", """
            --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 4,16,64 --layers 2,8 --ffn-units 16 \
            --optimizer euler --lr 0.02,0.05,0.1,0.2 --steps 200 --log-every 10 --checkpoint-every 100
            """)])
}
