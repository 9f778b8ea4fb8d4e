#!/usr/bin/env bash
# E7 (theory §6; §4–5): mean-field ResNets with two-layer and random-feature blocks at depths
# L ∈ {1, 10, 20}. (a) teacher regression (square loss) with the NTK Gram matrix's λ_min, the PL
# constant 2λ_min/n and the flow's dissipation rate every 200 steps; (b) Fashion-MNIST (a 10,000-image
# subset) with residual steps 1/L and 1/√L; (c) λ_min of the random-feature kernel as r grows.
# Results and figures: docs/e7-resnets.md.
#   experiments/e7_resnets.sh [OUT_DIR]     (writes OUT_DIR-regression, OUT_DIR-fashion, OUT_DIR-rff-kernel-*)
source "$(dirname "$0")/common.sh"
out=${1:-runs/e7}
"$binary" sweep --out "$out-regression" --model resnet,rff-resnet --task teacher-regression --layers 1,10,20 \
    --checkpoint-every 1000 --parallel "$parallel" --threads-per-run 1
finish "$out-regression"
"$binary" sweep --out "$out-fashion" --model resnet,rff-resnet --task fashion-mnist --subset 10000 --epochs 30 --lr 0.01 \
    --layers 1,10,20 --residual-exponent 1,0.5 --checkpoint-every 10 --parallel 1 --threads-per-run 2
finish "$out-fashion"
"$binary" rff-kernel --out "$out-rff-kernel-cos"
"$binary" rff-kernel --feature-map relu --out "$out-rff-kernel-relu"
finish "$out-rff-kernel-cos"
finish "$out-rff-kernel-relu"
