#!/usr/bin/env bash
# End-to-end test of `meanfield sweep --emit slurm` on a real one-node Slurm (scripts/slurm_single_node.sh):
# emits a 4-run width sweep cut into two array jobs (--max-array-size 3), submits it with submit.sh,
# stops two running tasks mid-run, one as Slurm's time-limit warning does (scancel --batch
# --signal=TERM: the task requeues itself) and one with `scontrol requeue` (Slurm requeues it), and
# checks that:
#   - every task completes (summary.csv: 4 completed);
#   - both stopped runs resumed from the checkpoint they wrote on SIGTERM (summary.json's
#     resumed_from_step > 0, "resuming" in the task log), and the first one's metrics.jsonl equals,
#     step by step, that of the same run trained here without interruption;
#   - the report job (afterok on both array jobs) wrote diagnostics.json with width entries and
#     report.html with its limit diagnostics.
# Run by .ci/run. Skips (exit 0, with the reason) when Slurm cannot be started here.
#   MEANFIELD=/path/to/meanfield   the binary (default: .build/debug/meanfield)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
say() { printf 'slurm_sweep_test: %s\n' "$*"; }

setup_log="$(mktemp)"
if ! scripts/slurm_single_node.sh >"$setup_log" 2>&1; then
  say "SKIPPED: Slurm cannot start here: $(tail -n 1 "$setup_log")"
  exit 0
fi
export SLURM_CONF="${MEANFIELD_SLURM_STATE:-/tmp/meanfield-slurm}/slurm.conf"
MEANFIELD="${MEANFIELD:-$(pwd)/.build/debug/meanfield}"
[ -x "$MEANFIELD" ] || { say "FAILED: no binary $MEANFIELD (swift build first)" >&2; exit 1; }
sweep="$(mktemp -d /tmp/meanfield-slurm-test.XXXXXX)"
fail() {
  say "FAILED: $*" >&2
  squeue >&2 || true
  tail -n 4 "$sweep"/runs/*.log "$sweep"/report-*.log >&2 2>/dev/null || true
  exit 1
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# 4 runs (heads 1, 2 × seeds 0, 1) of 30,000 steps, a log line and a checkpoint every 300: about 10 s
# a run at the debug binary's 3,000 steps/s, so a task is stopped long before its end (at 3,000 steps
# a task once finished between its first checkpoint and the stop: CI failure of stop 15).
steps="${STEPS:-30000}"
"$MEANFIELD" sweep --task icl-regression --heads 1,2 --seeds 2 --layers 1 --ffn-units 2 --steps "$steps" \
  --train-size 16 --eval-size 16 --log-every $((steps / 100)) --checkpoint-every $((steps / 100)) --threads-per-run 1 --out "$sweep" \
  --emit slurm --time 10:00 --mem 1G --max-array-size 3 --sbatch-arg=--comment=meanfield-ci
grep -q '^#SBATCH --time=10:00$' "$sweep/sweep.sbatch" || fail "no --time in sweep.sbatch"
ids="$("$sweep/submit.sh")" || fail "submit.sh failed"
say "$ids"
ids="${ids##* }"                                 # A,B,R: the two array jobs and the report job
IFS=, read -r first second report <<<"$ids"
[ -n "$report" ] || fail "expected two array jobs and a report job, got '$ids'"

# Stop tasks 0 and 1, each as soon as its run has a checkpoint after step 0, and check that it was
# still running then (a finished task cannot show a resume: the test would fail for the wrong reason).
checkpointed() { ls "$sweep/runs/$1/checkpoints/" 2>/dev/null | grep -qv 'step-00000000'; }
finished() { [ -s "$sweep/runs/$1/summary.json" ] && grep -q '"completed"' "$sweep/runs/$1/summary.json"; }
stopped0='' stopped1=''
for _ in $(seq 1200); do
  if [ -z "$stopped0" ] && checkpointed heads-1_seed-0; then
    finished heads-1_seed-0 && fail "task 0 finished before it could be stopped: raise STEPS (now $steps)"
    scancel --batch --signal=TERM "${first}_0"  # as the time-limit warning (--signal=B:TERM@120)
    stopped0=1
  fi
  if [ -z "$stopped1" ] && checkpointed heads-1_seed-1; then
    finished heads-1_seed-1 && fail "task 1 finished before it could be stopped: raise STEPS (now $steps)"
    scontrol requeue "${first}_1"                # as an administrator or preemption
    stopped1=1
  fi
  [ -n "$stopped0" ] && [ -n "$stopped1" ] && break
  sleep 0.1
done
[ -n "$stopped0" ] && [ -n "$stopped1" ] || fail "tasks 0 and 1 wrote no checkpoint within 120 s"
say "stopped ${first}_0 (SIGTERM to the batch shell) and requeued ${first}_1"

for _ in $(seq 300); do [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] && break; sleep 1; done
[ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] || fail "jobs $ids still queued after 300 s"

completed="$(grep -c ',completed,' "$sweep/summary.csv" || true)"
[ "$completed" = 4 ] || fail "summary.csv has $completed completed runs, expected 4"
for task in 0 1; do
  run="heads-1_seed-$task"
  log="$(ls "$sweep"/runs/*-"${first}"_"$task"+0.log)"           # split arrays: %x-%A_%a+OFFSET.log
  grep -q "sweep task $task: resuming" "$log" || fail "task $task did not resume (log $log)"
  step="$(json "$sweep/runs/$run/summary.json" 'd.get("resumed_from_step", 0)')"
  [ "$step" -gt 0 ] || fail "run $run resumed from step $step, not from its checkpoint"
  say "task $task: stopped at step $step of $steps, requeued, resumed from there"
done
grep -q "requeueing ${first}_0" "$sweep"/runs/*-"${first}"_0+0.log || fail "task 0 did not requeue itself"

# The same run as task 0, uninterrupted, here: identical metrics.
line="$(head -n 1 "$sweep/runs.txt")"
eval "words=($line)"
for i in "${!words[@]}"; do [ "${words[$i]}" = --out ] && words[$((i + 1))]="$sweep/uninterrupted"; done
"$MEANFIELD" train "${words[@]}" >/dev/null 2>&1
python3 - "$sweep/runs/heads-1_seed-0/metrics.jsonl" "$sweep/uninterrupted/metrics.jsonl" <<'EOF' || fail "resumed metrics differ"
import json, sys
def read(path):
    return [{k: v for k, v in json.loads(line).items() if not k.endswith("seconds")} for line in open(path)]
resumed, plain = read(sys.argv[1]), read(sys.argv[2])
assert len(resumed) == len(plain) and len(plain) > 5, (len(resumed), len(plain))
for a, b in zip(resumed, plain):
    assert a == b, f"step {a.get('step')}: {a} != {b}"
print(f"slurm_sweep_test: resumed run = uninterrupted run at all {len(plain)} logged steps (final R {plain[-1]['R']})")
EOF

widths="$(json "$sweep/diagnostics.json" 'len(d["width"])')"
[ "$widths" -gt 0 ] || fail "diagnostics.json has no width entries"
[ -s "$sweep/report.html" ] || fail "the report job wrote no report.html"
grep -q "has no diagnostics.json" "$sweep/report.html" && fail "report.html has no diagnostics"
say "OK in $(( $(date +%s) - started )) s: 4 tasks in 2 array jobs completed, 2 stopped tasks resumed, report job ${report} wrote diagnostics.json ($widths width entries) and report.html ($sweep)"

# Issue 20: a sweep whose runs are 2-rank data-parallel jobs (--ntasks-per-run 2: --ntasks=2, mpirun in
# the task), when Open MPI is installed: both runs complete, each manifest records 2 ranks.
if command -v mpirun >/dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1     # CI runs as root
  export OMPI_MCA_btl_vader_single_copy_mechanism=none                # containers forbid cross-memory attach
  mpi="$(mktemp -d /tmp/meanfield-slurm-mpi.XXXXXX)"
  "$MEANFIELD" sweep --task icl-regression --heads 2,4 --steps 200 --train-size 16 --checkpoint-every 50 --out "$mpi" \
    --emit slurm --ntasks-per-run 2 --time 10:00 >/dev/null 2>&1 || fail "sweep --emit slurm --ntasks-per-run 2 failed"
  grep -q '^#SBATCH --ntasks=2$' "$mpi/sweep.sbatch" || fail "no --ntasks=2 in $mpi/sweep.sbatch"
  mpi_ids="$("$mpi/submit.sh")" || fail "$mpi/submit.sh failed"
  mpi_ids="${mpi_ids##* }"
  for _ in $(seq 120); do [ -z "$(squeue -h -j "$mpi_ids" 2>/dev/null)" ] && break; sleep 1; done
  [ "$(grep -c ',completed,' "$mpi/summary.csv" 2>/dev/null || true)" = 2 ] || { tail -n 20 "$mpi"/runs/*.log >&2; fail "the 2-rank runs did not both complete ($mpi)"; }
  for run in heads-2 heads-4; do
    [ "$(json "$mpi/runs/$run/manifest.json" 'd.get("ranks")')" = 2 ] || fail "$run's manifest does not record 2 ranks"
  done
  say "OK: 2 runs as 2-rank MPI jobs under Slurm completed ($mpi)"

  # Slurm launching the ranks itself (srun --mpi=pmix, no mpirun): a 2-rank particle-parallel run
  # equals the one-process run (float64, 100 steps, every logged number to 1e-12 relative).
  if timeout 60 srun --mpi=pmix -n 2 true >/dev/null 2>&1; then
    pmix="$(mktemp -d /tmp/meanfield-srun.XXXXXX)"
    arguments=(train --steps 100 --log-every 10 --train-size 16 --threads 1 --lr 0.02 --precision float64 --heads 3 --ffn-units 5)
    "$MEANFIELD" "${arguments[@]}" --out "$pmix/single" >/dev/null 2>&1 || fail "the one-process reference run failed ($pmix)"
    timeout 120 srun --mpi=pmix -n 2 "$MEANFIELD" "${arguments[@]}" --distributed particle --out "$pmix/srun" >"$pmix/srun.log" 2>&1 \
      || { tail -n 5 "$pmix/srun.log" >&2; fail "srun --mpi=pmix -n 2 meanfield train --distributed particle failed ($pmix)"; }
    [ "$(json "$pmix/srun/manifest.json" 'd.get("ranks")')" = 2 ] || fail "the srun run's manifest does not record 2 ranks"
    python3 - "$pmix/single/metrics.jsonl" "$pmix/srun/metrics.jsonl" <<'EOF' || fail "the srun run differs from the one-process run"
import json, sys
one, two = ([json.loads(line) for line in open(path)] for path in sys.argv[1:])
assert len(one) == len(two) == 11, (len(one), len(two))
worst = max(abs(a[k] - b[k]) / abs(a[k]) for a, b in zip(one, two) for k in ("R", "Q", "eval_R", "grad_norm") if a.get(k))
assert worst <= 1e-12, worst
print(f"slurm_sweep_test: srun --mpi=pmix -n 2, particle-parallel = one process to {worst:.1e} relative over 100 steps")
EOF
  else
    say "SKIPPED srun --mpi=pmix: Slurm cannot launch a PMIx step here ($(timeout 60 srun --mpi=pmix -n 2 true 2>&1 | tail -n 1))"
  fi
else
  say "SKIPPED the 2-rank MPI sweep: no mpirun (apt install openmpi-bin)"
fi
