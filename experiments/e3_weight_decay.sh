#!/usr/bin/env bash
# E3 (theory §6, claim C2): weight-decay sweep. Final regularized risk Q and risk R against
# λ ∈ {1e-4, 1e-3, 1e-2, 1e-1} (theory: O(λ), a log-log slope of 1 once the flow has converged).
#   experiments/e3_weight_decay.sh [OUT_DIR] [SEEDS]
source "$(dirname "$0")/common.sh"
out=${1:-runs/e3}
seeds=${2:-2}
"$binary" sweep --out "$out" --parallel "$parallel" --threads-per-run 1 \
    --task icl-regression --input-dim 5 --examples 20 --train-size 32 --eval-size 128 \
    --heads 16 --layers 4 --ffn-units 16 --weight-decay 0.0001,0.001,0.01,0.1 --seeds "$seeds" \
    --optimizer euler --lr 0.1 --steps 1000 --log-every 50 --checkpoint-every 500
finish "$out"
