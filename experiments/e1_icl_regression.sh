#!/usr/bin/env bash
# E1 (theory §6): in-context linear regression (d = 5, N = 20), loss vs mean-field time per M and L,
# and final loss vs learning rate per M and L (hyperparameter transfer: in mean-field time the best
# η should not move with width or depth). 3 widths × 2 depths × 4 rates = 24 runs.
#   experiments/e1_icl_regression.sh [OUT_DIR]        (PARALLEL=2 by default)
source "$(dirname "$0")/common.sh"
out=${1:-runs/e1}
"$binary" sweep --out "$out" --parallel "$parallel" --threads-per-run 1 \
    --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 \
    --heads 4,16,64 --layers 2,8 --ffn-units 16 --optimizer euler --lr 0.02,0.05,0.1,0.2 \
    --steps 200 --log-every 10 --checkpoint-every 100
finish "$out"
