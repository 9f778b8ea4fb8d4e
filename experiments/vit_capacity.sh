#!/usr/bin/env bash
# Claim C3 (theory §1.5) on Fashion-MNIST: the default ViT (M = 8 heads, M' = 256 units, L = 6)
# fits a class-balanced 2,000-image subset (training loss < 1e-2, accuracy >= 99.5%); smaller
# capacity on the same budget (same data, epochs, batch, eta and schedule) does not. The first three
# rows are E4's grid (theory §6: L = 6, M varies, M' = 256 fixed); the others shrink M' and L too.
#
#   experiments/vit_capacity.sh [OUT_DIR] [PARALLEL]
#
# Runs the rows below (PARALLEL at a time, 2 by default, one thread each), then prints the table
# that docs/experiments.md shows (experiments/summarize_image_runs.py). Finished rows are skipped and
# interrupted ones resumed from their last checkpoint, so the script can be re-run after a stop
# (not while another copy of it is running on the same OUT_DIR).
set -euo pipefail
out=${1:-runs/vit-capacity}
parallel=${2:-2}
binary=${MEANFIELD:-.build/release/meanfield}
[ -x "$binary" ] || swift build -c release --product meanfield
mkdir -p "$out"
budget="--task fashion-mnist --subset 2000 --test-subset 2000 --epochs 60 --threads 1 --seed 0"
# name heads ffn-units layers
rows="M8-U256-L6 8 256 6
M4-U256-L6 4 256 6
M1-U256-L6 1 256 6
M8-U256-L1 8 256 1
M2-U16-L6 2 16 6
M1-U8-L2 1 8 2
M1-U4-L1 1 4 1"
echo "$rows" | xargs -P "$parallel" -L 1 sh -c '
  name=$0; heads=$1; units=$2; layers=$3
  run="'"$out"'/$name"
  if grep -q "\"completed\"" "$run/summary.json" 2>/dev/null; then echo "skip $name (done)"; exit 0; fi
  if ls "$run"/checkpoints/*.safetensors > /dev/null 2>&1; then
    command="--resume $run --epochs 60 --threads 1"          # an interrupted run continues where it stopped
  else
    rm -rf "$run"
    command="'"$budget"' --heads $heads --ffn-units $units --layers $layers --out $run"
  fi
  "'"$binary"'" train $command >> "$run.log" 2>&1 && echo "done $name" || echo "FAILED $name (see $run.log)"'
python3 "$(dirname "$0")/summarize_image_runs.py" "$out"/*/
