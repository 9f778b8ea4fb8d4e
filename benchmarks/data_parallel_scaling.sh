#!/usr/bin/env bash
# Time per training step of one run in one process and over K = 2 processes, data-parallel and
# particle-parallel (MPI, docs/distributed.md): interleaved rounds, min / median / max of the seconds
# per step that each run's summary.json records (forward, backward, the rank-order sums, the update;
# rank 0's clock), and the bytes rank 0 sent per step (`bytes_sent_per_step`, counted by
# ProcessGroup), printed next to the formula's. Then the projection to 8–64 nodes
# (benchmarks/data_parallel_projection.py, its model in its header).
#   benchmarks/data_parallel_scaling.sh [ROUNDS]     (MEANFIELD=binary, default .build/release/meanfield)
# Sizes: the coupled reference run of E2 (M = 256, L = 8, attention only, 64 prompts of 21 tokens,
# float32), the same at the width of a large width study (M = 4,096, L = 2), and the default ViT on a
# 2,048-image Fashion-MNIST subset (batch 64: 32 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${MEANFIELD:-.build/release/meanfield}
rounds=${1:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
scratch=$(mktemp -d /tmp/meanfield-dp-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
regression="--task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --ffn-units 0 --optimizer euler --lr 0.05 --log-every 0 --no-tensorboard"
declare -A flags=(
  [e2-reference]="$regression --heads 256 --layers 8 --steps 40"
  [e2-wide]="$regression --heads 4096 --layers 2 --steps 6"
  [vit]="--task fashion-mnist --subset 2048 --test-subset 256 --epochs 1 --log-every-epochs 0 --checkpoint-every-epochs 0 --no-tensorboard"
)
# Per size: blocks per layer stack (2L with feed-forward, L without), the values B·n·D of one
# block's activations — what particle-parallel sums twice per block and step — and the bytes of a
# value (all three runs are float32: their sums are in Float).
declare -A shapes=([e2-reference]="8 $((64 * 21 * 6)) 4" [e2-wide]="2 $((64 * 21 * 6)) 4" [vit]="12 $((64 * 16 * 64)) 4")
times="$scratch/times.csv"
echo "size,mode,processes,round,seconds_per_step,bytes_sent_per_step" | tee "$times"
for round in $(seq "$rounds"); do
  for size in e2-reference e2-wide vit; do
    for mode in none data particle; do
      out="$scratch/$size-$mode-$round"
      # shellcheck disable=SC2086
      if [ "$mode" = none ]; then k=1; "$binary" train ${flags[$size]} --threads 1 --out "$out" >/dev/null 2>&1
      else k=2; mpirun --oversubscribe --bind-to core -np 2 "$binary" train ${flags[$size]} --threads 1 --distributed "$mode" --out "$out" >/dev/null 2>&1; fi
      python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('$size,$mode,$k,$round,' + repr(s['seconds_per_step']) + ',' + repr(s.get('bytes_sent_per_step', 0)))" "$out/summary.json" | tee -a "$times"
    done
  done
done

# Parameters P of each run: the element count of its last checkpoint's tensors (safetensors header).
count() {
  python3 - "$(ls "$1"/checkpoints/*.safetensors | tail -n 1)" <<'PY'
import json, math, struct, sys
data = open(sys.argv[1], "rb").read()
header = json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])
print(sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__" and not k.startswith("optimizer")))
PY
}
arguments=()
for size in e2-reference e2-wide vit; do
  arguments+=("$size,$(count "$scratch/$size-none-1"),${shapes[$size]// /,}")
done
python3 "$(dirname "$0")/data_parallel_projection.py" "$times" "${arguments[@]}"
