#!/usr/bin/env bash
# E3 (theory §6, claim C2): weight-decay sweep. Final regularized risk Q and risk R against
# λ ∈ {0.02, 0.05, 0.1, 0.2} (theory: O(λ), a log-log slope of 1 once the flow has converged).
# Protocol (docs/experiments.md, E3): float64 Euler with η = 0.0005, each λ run to mean-field time
# t = C/λ (C = 10 by default; steps = C/(λη)), 5 seeds, a small model and task (M = 8, L = 2,
# M' = 8; d = 5, N = 10, 16 training prompts) so the long runs fit; one sweep per λ in
# OUT_DIR/lambda-<λ>/, then experiments/e3_fit.py fits the slope. Float64 because in Float32 the
# gradient near the minimum (∇R ≈ −λθ, a difference of nearly equal terms) is noisy enough to make
# Q spike between logged steps at any step size (docs/experiments.md, E3).
#   experiments/e3_weight_decay.sh [OUT_DIR] [SEEDS] [C]      (LR=η, LAMBDAS="λ …" and
#   PRECISION=float32 override the defaults; NO_FIT=1 skips the fit; PARALLEL=n runs at a time)
source "$(dirname "$0")/common.sh"
out=${1:-runs/e3}
seeds=${2:-5}
c=${3:-10}
lr=${LR:-0.0005}
for lambda in ${LAMBDAS:-0.02 0.05 0.1 0.2}; do
    steps=$(python3 -c "print(round($c / ($lambda * $lr)))")
    "$binary" sweep --out "$out/lambda-$lambda" --parallel "$parallel" --threads-per-run 1 \
        --task icl-regression --input-dim 5 --examples 10 --train-size 16 --eval-size 32 \
        --precision "${PRECISION:-float64}" --heads 8 --layers 2 --ffn-units 8 --weight-decay "$lambda" --seeds "$seeds" \
        --optimizer euler --lr "$lr" --steps "$steps" --log-every $((steps / 100)) --checkpoint-every $((steps / 2))
done
[ -n "${NO_FIT:-}" ] || python3 "$(dirname "$0")/e3_fit.py" "$out" | tee "$out/e3_fit.txt"
