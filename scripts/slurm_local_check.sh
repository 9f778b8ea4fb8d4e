#!/usr/bin/env bash
# Checks `meanfield sweep --emit slurm` with Slurm's own tools on this machine: sets up a one-node
# Slurm cluster (munge + slurmctld + slurmd, Debian packages slurm-wlm and munge), emits a tiny sweep
# (4 runs of 20-step in-context regression), checks the script with `sbatch --test-only`, submits it
# for real, waits for the array, checks that every task wrote its run directory, and summarizes.
#
# Usage:  scripts/slurm_local_check.sh [SWEEP_DIR]
#   MEANFIELD=/path/to/meanfield   the binary to use (default: the debug build in .build, built if absent)
#   SLURM_CPUS=2                   CPUs of the local node (default: nproc)
#
# Idempotent: packages, munge key, slurm.conf and daemons are set up only when missing or not
# running. Needs root (it writes /etc/slurm/slurm.conf and starts daemons). CI does not run it.
# Result recorded in docs/cluster.md ("Checked with Slurm").
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
say() { printf '== %s\n' "$*"; }

# --- 1. Packages -----------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q slurm-wlm munge
fi

# --- 2. munge: key and daemon ------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  say "creating the munge key"
  $SUDO mungekey --create --force
  $SUDO chown munge:munge /etc/munge/munge.key
  $SUDO chmod 600 /etc/munge/munge.key
fi
$SUDO mkdir -p /run/munge /var/log/munge /var/lib/munge
$SUDO chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  $SUDO runuser -u munge -- /usr/sbin/munged
  sleep 1
fi
munge -n | unmunge >/dev/null

# --- 3. slurm.conf: one node named localhost ---------------------------------------------------
cpus="${SLURM_CPUS:-$(nproc)}"
controller="$(hostname -s)"
conf="$(mktemp)"
cat >"$conf" <<EOF
# One-node cluster for scripts/slurm_local_check.sh (MeanField).
ClusterName=meanfield-local
SlurmctldHost=$controller
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
$SUDO mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
restart=0
if ! cmp -s "$conf" /etc/slurm/slurm.conf; then
  say "writing /etc/slurm/slurm.conf (node localhost, $cpus CPUs)"
  $SUDO cp "$conf" /etc/slurm/slurm.conf
  restart=1
fi
rm -f "$conf"

# --- 4. Daemons --------------------------------------------------------------------------------
stop_daemon() {  # stop a daemon started by an earlier run of this script, by its pid file
  local pidfile="$1"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    $SUDO kill "$(cat "$pidfile")"
    sleep 2
  fi
}
if [ "$restart" = 1 ]; then stop_daemon /run/slurmd.pid; stop_daemon /run/slurmctld.pid; fi
if ! scontrol ping 2>/dev/null | grep -q "is UP"; then
  say "starting slurmctld"
  $SUDO slurmctld
  for _ in $(seq 30); do scontrol ping 2>/dev/null | grep -q "is UP" && break; sleep 1; done
fi
scontrol ping | grep -q "is UP" || { echo "slurmctld did not come up; see /var/log/slurm/slurmctld.log" >&2; exit 1; }
if ! { [ -s /run/slurmd.pid ] && kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; }; then
  say "starting slurmd (node localhost)"
  $SUDO slurmd -N localhost
fi
for _ in $(seq 30); do
  state="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  case "$state" in down*|drain*) $SUDO scontrol update nodename=localhost state=resume 2>/dev/null || true ;; esac
  sleep 1
done
sinfo
case "$(sinfo -h -n localhost -o %T)" in idle*|mixed*|allocated*) ;; *) echo "node localhost is not usable; see /var/log/slurm/slurmd.log" >&2; exit 1 ;; esac

# --- 5. The sweep ------------------------------------------------------------------------------
if [ -z "${MEANFIELD:-}" ]; then
  MEANFIELD="$(pwd)/.build/debug/meanfield"
  [ -x "$MEANFIELD" ] || swift build --product meanfield
fi
sweep="${1:-$(mktemp -d /tmp/meanfield-slurm-check.XXXXXX)}"
sweep="$(mkdir -p "$sweep" && cd "$sweep" && pwd)"
say "emitting a 4-run sweep into $sweep"
"$MEANFIELD" sweep --task icl-regression --heads 1,2 --seeds 2 --layers 1 --ffn-units 2 --steps 20 \
  --train-size 8 --eval-size 8 --log-every 5 --checkpoint-every 10 --threads-per-run 1 --parallel 2 \
  --out "$sweep" --emit slurm
cat "$sweep/sweep.sbatch"

say "sbatch --test-only"
sbatch --test-only "$sweep/sweep.sbatch"

say "sbatch (real submission)"
job="$(sbatch --parsable "$sweep/sweep.sbatch")"
job="${job%%;*}"
echo "job array $job"
for _ in $(seq 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  squeue -j "$job" -h -o '%i %T %R' | tr '\n' ' '; echo
  sleep 2
done
if [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; then echo "array $job still running after 10 minutes" >&2; exit 1; fi

say "task logs"
ls "$sweep"/runs/*.log
n_logs="$(ls "$sweep"/runs/meanfield-*-"$job"_*.log | wc -l)"
head -n 3 "$sweep"/runs/meanfield-*-"$job"_0.log

say "resubmitting one task whose run lost its summary (must resume), then the whole array (must skip)"
rm "$sweep/runs/heads-1_seed-1/summary.json"
again="$(sbatch --parsable --wait --array=1 "$sweep/sweep.sbatch")"; again="${again%%;*}"
grep -h "resuming" "$sweep"/runs/meanfield-*-"$again"_1.log
all="$(sbatch --parsable --wait "$sweep/sweep.sbatch")"; all="${all%%;*}"
skipped="$(cat "$sweep"/runs/meanfield-*-"$all"_*.log | grep -c "already finished" || true)"
echo "array $all: $skipped of 4 tasks found their run finished"

say "summary"
"$MEANFIELD" sweep --summarize "$sweep"
cat "$sweep/summary.csv"
completed="$(grep -c ',completed,' "$sweep/summary.csv" || true)"
if [ "$n_logs" = 4 ] && [ "$completed" = 4 ] && [ "$skipped" = 4 ]; then
  say "OK: Slurm ran the 4 array tasks of job $job (4 runs completed in $sweep/runs/); job $again resumed one; job $all skipped all 4"
else
  echo "FAILED: $n_logs task logs, $completed completed runs, $skipped skipped on resubmission (expected 4, 4, 4); see $sweep/runs/*.log" >&2
  exit 1
fi
