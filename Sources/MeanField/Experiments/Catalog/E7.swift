extension Experiment {
    /// E7 (theory §4–5, §6): mean-field ResNets (docs/e7-resnets.md; was experiments/e7_resnets.sh).
    static let e7 = Experiment(
        id: "E7", title: "mean-field ResNets: depth, NTK and PL", claim: "theory §4–5, §6 E7",
        shows: "ResNets with two-layer and random-feature blocks at several depths: (a) teacher regression with the NTK Gram matrix's λ_min, "
            + "the PL constant 2λ_min/n and the flow's dissipation rate; (b) Fashion-MNIST with residual steps 1/L and 1/√L; "
            + "(c) λ_min of the random-feature kernel as the number of features r grows.",
        figure: "regression/report.html: loss per depth on one time axis (each run's report: NTK λ_min, PL constant, dissipation rate); rff-kernel-cos/report.html",
        result: "the dissipation rate stays above the PL constant; λ_min of two-layer blocks grows along training (docs/e7-resnets.md)",
        quickTime: "9 s", fullTime: "15 min",
        quick: [
            .sweep("regression", "--model resnet,rff-resnet --task teacher-regression --layers 1,10 --steps 400 --checkpoint-every 400"),
            .run(.rffKernel, "rff-kernel-cos", "--features 10,100,1000"),
        ],
        full: [
            .sweep("regression", "--model resnet,rff-resnet --task teacher-regression --layers 1,10,20 --checkpoint-every 1000"),
            .sweep("fashion", """
                --model resnet,rff-resnet --task fashion-mnist --subset 10000 --epochs 30 --lr 0.01 --layers 1,10,20 \
                --residual-exponent 1,0.5 --checkpoint-every 10
                """),
            .run(.rffKernel, "rff-kernel-cos", ""),
            .run(.rffKernel, "rff-kernel-relu", "--feature-map relu"),
        ])
}
