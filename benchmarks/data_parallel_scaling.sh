#!/usr/bin/env bash
# Time per training step of one run on K = 1 and K = 2 processes (data-parallel over MPI,
# docs/distributed.md), interleaved rounds, min / median / max of the seconds per step that each
# run's summary.json records (forward, backward, the rank-order sum, the update; rank 0's clock).
# Then the projection to 8–64 nodes (benchmarks/data_parallel_projection.py, its model in its header).
#   benchmarks/data_parallel_scaling.sh [ROUNDS]     (MEANFIELD=binary, default .build/release/meanfield)
# Sizes: the coupled reference run of E2 (M = 256, L = 8, attention only, 64 prompts of 21 tokens,
# float32) and the default ViT on a 2,048-image Fashion-MNIST subset (batch 64: 32 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${MEANFIELD:-.build/release/meanfield}
rounds=${1:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
scratch=$(mktemp -d /tmp/meanfield-dp-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
declare -A flags=(
  [e2-reference]="--task icl-regression --input-dim 5 --examples 20 --train-size 64 --eval-size 128 --heads 256 --layers 8 --ffn-units 0 --optimizer euler --lr 0.05 --steps 40 --log-every 0 --no-tensorboard"
  [vit]="--task fashion-mnist --subset 2048 --test-subset 256 --epochs 1 --log-every-epochs 0 --checkpoint-every-epochs 0 --no-tensorboard"
)
times="$scratch/times.csv"
echo "size,processes,threads_per_process,round,seconds_per_step" | tee "$times"
for round in $(seq "$rounds"); do
  for size in e2-reference vit; do
    for k in 1 2; do
      out="$scratch/$size-$k-$round"
      # shellcheck disable=SC2086
      if [ "$k" = 1 ]; then "$binary" train ${flags[$size]} --threads 1 --out "$out" >/dev/null 2>&1
      else mpirun --oversubscribe --bind-to core -np "$k" "$binary" train ${flags[$size]} --threads 1 --distributed data --out "$out" >/dev/null 2>&1; fi
      python3 -c "import json,sys; print('$size,$k,1,$round,' + repr(json.load(open(sys.argv[1]))['seconds_per_step']))" "$out/summary.json" | tee -a "$times"
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
e2=$(count "$scratch/e2-reference-1-1"); vit=$(count "$scratch/vit-1-1")
echo "parameters: e2-reference $e2, vit $vit"
python3 "$(dirname "$0")/data_parallel_projection.py" "$times" "$e2" "$vit"
