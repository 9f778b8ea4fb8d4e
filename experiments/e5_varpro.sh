#!/usr/bin/env bash
# E5 (theory §3, §6): two-timescale VarPro teacher–student. Energy distance of the student's feature
# measure to the teacher's and to the λ → 0 ultra-fast diffusion PDE over mean-field time, per width
# m and λ; VarPro against single-timescale gradient flow. Results: docs/e5-varpro.md.
#   experiments/e5_varpro.sh [OUT_DIR]
# Two lanes of one thread each (≈ 15 min wall on 2 shared cores; the m = 512 VarPro students dominate).
source "$(dirname "$0")/common.sh"
out=${1:-runs/e5}
common=(--samples 1024 --steps 12000 --time-step 0.0009765625 --record-every 100 --seed 0 --pde-grid 256)
export MEANFIELD_THREADS=1
(
    # A: unbiased, VarPro and two-timescale with the u rate λm of theory §3.
    "$binary" varpro "${common[@]}" --width 32,128,512 --lambda 0.001,0.01,0.1 --mode varpro,two-timescale \
        --regulariser unbiased --outer-rate lambda --out "$out/unbiased" > "$out-unbiased.log" 2>&1
    finish "$out/unbiased"
) &
(
    # B: unbiased, two-timescale with u at the features' rate m (plain gradient flow on both layers).
    "$binary" varpro "${common[@]}" --width 32,128,512 --lambda 0.001,0.01,0.1 --mode two-timescale \
        --regulariser unbiased --outer-rate same --out "$out/unbiased-same-rate" > "$out-unbiased-same-rate.log" 2>&1
    finish "$out/unbiased-same-rate"
    # C: biased regulariser |u|²: VarPro and plain gradient flow (m = 512 at λ = 0.1 only: ≈ 5 min).
    "$binary" varpro "${common[@]}" --width 32,128 --lambda 0.01,0.1 --mode varpro,two-timescale \
        --regulariser biased --outer-rate same --out "$out/biased" > "$out-biased.log" 2>&1
    finish "$out/biased"
    "$binary" varpro "${common[@]}" --width 512 --lambda 0.1 --mode varpro,two-timescale \
        --regulariser biased --outer-rate same --out "$out/biased-m512" > "$out-biased-m512.log" 2>&1
    finish "$out/biased-m512"
    # E: stochastic VarPro, minibatches of 128, momentum 0.9 on u.
    "$binary" varpro "${common[@]}" --width 32,128,512 --lambda 0.001,0.01 --mode stochastic-varpro \
        --batch-size 128 --momentum 0.9 --regulariser unbiased --out "$out/stochastic" > "$out-stochastic.log" 2>&1
    finish "$out/stochastic"
    # D: 2-D periodic "convolution" features (smaller Δτ: φ ≤ 2/s² = 50, |∇φ| ≤ 250).
    "$binary" varpro --features rbf-torus --rbf-scale 0.2 --samples 512 --steps 12000 --time-step 0.0001 --record-every 100 \
        --width 32,128 --lambda 0.1 --mode varpro,two-timescale --outer-rate same --regulariser unbiased \
        --out "$out/torus" > "$out-torus.log" 2>&1
    finish "$out/torus"
) &
wait
