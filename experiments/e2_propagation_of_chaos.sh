#!/usr/bin/env bash
# E2 (theory §6, claim C1): propagation of chaos. Attention-only Transformers (so M is the only
# width) at M = 4, 16, 64 and the reference M = 256, coupled (same seed ⇒ the smaller runs start
# from the first M of the reference's initial heads), L = 2 and 8, 3 seeds for error bars.
# `meanfield diagnose` fits the RMS function-space distance and the risk gap against M (theory −1/2).
#   experiments/e2_propagation_of_chaos.sh [OUT_DIR] [SEEDS]
source "$(dirname "$0")/common.sh"
out=${1:-runs/e2}
seeds=${2:-3}
"$binary" sweep --out "$out" --parallel "$parallel" --threads-per-run 1 \
    --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 \
    --heads 4,16,64,256 --layers 2,8 --ffn-units 0 --seeds "$seeds" --optimizer euler --lr 0.05 \
    --steps 100 --log-every 10 --checkpoint-every 25
finish "$out"
