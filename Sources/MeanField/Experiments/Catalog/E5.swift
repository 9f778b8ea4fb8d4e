extension Experiment {
    /// E5 (theory §3, §6): two-timescale VarPro teacher–student (docs/e5-varpro.md; was
    /// experiments/e5_varpro.sh, whose lanes A–E are the full protocol's steps).
    static let e5 = Experiment(
        id: "E5", title: "two-timescale VarPro teacher–student", claim: "theory §3, §6 E5",
        shows: "Two-layer students with the outer layer solved by ridge regression (VarPro) or trained (two-timescale): the energy "
            + "distance of the student's feature measure to the teacher's and to the λ → 0 ultra-fast diffusion PDE over mean-field time, per width m and λ.",
        figure: "unbiased/report.html: energy distance to the teacher and to the PDE over time, per m and λ",
        result: "docs/e5-varpro.md, Results (tables per m and λ; python3 experiments/e5_table.py OUT/unbiased prints them)",
        quickTime: "12 s", fullTime: "35 min (was 18 min in two parallel lanes)",
        quick: [.run(.varpro, "unbiased", """
            --samples 256 --steps 2000 --time-step 0.0009765625 --record-every 100 --seed 0 --pde-grid 128 \
            --width 32,128 --lambda 0.01,0.1 --mode varpro,two-timescale --regulariser unbiased --outer-rate lambda
            """)],
        full: [
            // A: unbiased, VarPro and two-timescale with the u rate λm of theory §3.
            varpro("unbiased", "--width 32,128,512 --lambda 0.001,0.01,0.1 --mode varpro,two-timescale --regulariser unbiased --outer-rate lambda"),
            // B: two-timescale with u at the features' rate m (plain gradient flow on both layers).
            varpro("unbiased-same-rate", "--width 32,128,512 --lambda 0.001,0.01,0.1 --mode two-timescale --regulariser unbiased --outer-rate same"),
            // C: the biased regulariser |u|² (m = 512 at λ = 0.1 only).
            varpro("biased", "--width 32,128 --lambda 0.01,0.1 --mode varpro,two-timescale --regulariser biased --outer-rate same"),
            varpro("biased-m512", "--width 512 --lambda 0.1 --mode varpro,two-timescale --regulariser biased --outer-rate same"),
            // E: stochastic VarPro, minibatches of 128, momentum 0.9 on u.
            varpro("stochastic", "--width 32,128,512 --lambda 0.001,0.01 --mode stochastic-varpro --batch-size 128 --momentum 0.9 --regulariser unbiased"),
            // D: 2-D periodic "convolution" features (smaller Δτ: φ ≤ 2/s² = 50, |∇φ| ≤ 250).
            .run(.varpro, "torus", """
                --features rbf-torus --rbf-scale 0.2 --samples 512 --steps 12000 --time-step 0.0001 --record-every 100 \
                --width 32,128 --lambda 0.1 --mode varpro,two-timescale --outer-rate same --regulariser unbiased
                """),
        ])

    /// A full-protocol VarPro step: n = 1024, 12,000 steps of Δτ = 2⁻¹⁰, the PDE on 256 cells.
    static func varpro(_ folder: String, _ flags: String) -> ExperimentStep {
        .run(.varpro, folder, "--samples 1024 --steps 12000 --time-step 0.0009765625 --record-every 100 --seed 0 --pde-grid 256 " + flags)
    }
}
