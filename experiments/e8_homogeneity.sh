#!/usr/bin/env bash
# E8 (PAPERS §6, partial homogeneity): the same task and width (M = M' = 16, L = 8) with each
# feed-forward activation (ReLU, GELU, sigmoid, tanh) and each score map (softmax, linear):
# loss vs mean-field time per choice and the final loss (summary.csv, report).
# (The Fashion-MNIST half of E8 is not scripted yet.)
#   experiments/e8_homogeneity.sh [OUT_DIR]
source "$(dirname "$0")/common.sh"
out=${1:-runs/e8}
"$binary" sweep --out "$out" --parallel "$parallel" --threads-per-run 1 \
    --task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 \
    --heads 16 --ffn-units 16 --layers 8 --activation relu,gelu,sigmoid,tanh --score softmax,linear \
    --optimizer euler --lr 0.05 --steps 300 --log-every 10 --checkpoint-every 100
finish "$out"
