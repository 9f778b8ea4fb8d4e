import Foundation

extension Experiment {
    /// E3 (theory §6, claim C2): weight decay — where the flow of Q = R + (λ/2)∫|θ|²dρ ends, against
    /// λ. One sweep per λ (each λ runs to its own mean-field time t = C/λ, so the steps differ),
    /// then the per-seed slope of log Q against log λ (``WeightDecayStudy``). The full protocol is
    /// experiments/e3_weight_decay.sh's (docs/experiments.md, E3); experiments/e3_fit.py is the
    /// longer analysis of the same folders.
    static let e3 = Experiment(
        id: "E3", title: "weight decay: final Q against λ", claim: "claim C2 (theory §1.5, §6 E3)",
        shows: "Float64 Euler gradient flow of the regularised risk Q at four λ, each run to t = C/λ, several seeds: the log-log slope "
            + "of the final Q against λ per seed, with a Student-t 95% interval over seeds (theory: Q = O(λ), slope 1 once the flow has settled).",
        figure: "lambda-λ/report.html per λ (Q and R over mean-field time); the slope is printed at the end (python3 experiments/e3_fit.py OUT: the full table)",
        result: "the slope of final Q vs λ with its interval: docs/experiments.md, E3",
        quickTime: "52 s", fullTime: "about 80 minutes on 2 idle cores (160 core-minutes)",
        quick: weightDecaySweeps(lambdas: [0.05, 0.1, 0.2], c: 2, lr: 0.01, seeds: 3),
        full: weightDecaySweeps(lambdas: [0.02, 0.05, 0.1, 0.2], c: 10, lr: 0.0005, seeds: 5),
        analysis: .weightDecaySlope)

    /// One sweep per λ into `lambda-λ/`: `steps = round(C/(λη))`, logged 100 times, checkpointed twice.
    static func weightDecaySweeps(lambdas: [Double], c: Double, lr: Double, seeds: Int) -> [ExperimentStep] {
        lambdas.map { lambda in
            let steps = Int((c / (lambda * lr)).rounded())
            return .sweep("lambda-\(lambda)", """
                --task icl-regression --input-dim 5 --examples 10 --train-size 16 --eval-size 32 --precision float64 \
                --heads 8 --layers 2 --ffn-units 8 --weight-decay \(lambda) --seeds \(seeds) --optimizer euler --lr \(lr) \
                --steps \(steps) --log-every \(steps / 100) --checkpoint-every \(steps / 2)
                """)
        }
    }
}
