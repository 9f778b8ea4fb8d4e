#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (munged, slurmctld, slurmd; Debian packages
# slurm-wlm and munge), for scripts/slurm_sweep_test.sh and CI. Idempotent: the munge key, the
# slurm.conf and the daemons are made or started only when missing or not running (a changed
# slurm.conf restarts the Slurm daemons this script started).
#
# Usage:  scripts/slurm_single_node.sh          then  export SLURM_CONF=$MEANFIELD_SLURM_STATE/slurm.conf
#   MEANFIELD_SLURM_STATE=/tmp/meanfield-slurm  folder of slurm.conf, spool, logs and pid files (default)
#   SLURM_CPUS=2                                CPUs of the node (default: nproc)
# Needs root (munged runs as user munge, the Slurm daemons as root). Exits 0 when the node is
# idle and takes jobs; otherwise non-zero with one line saying why on standard error.
set -euo pipefail

state="${MEANFIELD_SLURM_STATE:-/tmp/meanfield-slurm}"
conf="$state/slurm.conf"
export SLURM_CONF="$conf"
say() { printf 'slurm_single_node: %s\n' "$*"; }
fail() { printf 'slurm_single_node: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (it starts munged, slurmctld and slurmd)"
for tool in munged mungekey slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" >/dev/null || fail "$tool not found: apt-get install slurm-wlm munge"
done

# --- munge: key and daemon (the system's: Slurm's auth/munge talks to /run/munge) ----------------
if [ ! -s /etc/munge/munge.key ]; then
  say "creating the munge key"
  mungekey --create --force
  chown munge:munge /etc/munge/munge.key
  chmod 600 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 10); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi
munge -n | unmunge >/dev/null 2>&1 || fail "munge does not answer (see /var/log/munge/munged.log)"

# --- slurm.conf: one node, localhost ------------------------------------------------------------
cpus="${SLURM_CPUS:-$(nproc)}"
memory="$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"   # MB, for --mem requests
mkdir -p "$state/ctld" "$state/d" "$state/log"
new="$(mktemp)"
cat >"$new" <<EOF
# One-node cluster of scripts/slurm_single_node.sh (MeanField).
ClusterName=meanfield-local
SlurmctldHost=$(hostname -s)(127.0.0.1)
AuthType=auth/munge
# A requeued job waits cred_expire seconds before it may start again (default 120).
AuthInfo=cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
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
KillWait=30
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! cmp -s "$new" "$conf"; then
  say "writing $conf (node localhost, $cpus CPUs, $memory MB)"
  for daemon in slurmd slurmctld; do
    if running "$state/$daemon.pid"; then kill "$(cat "$state/$daemon.pid")"; sleep 2; fi
  done
  cp "$new" "$conf"
fi
rm -f "$new"

# --- daemons ------------------------------------------------------------------------------------
if ! scontrol ping 2>/dev/null | grep -q "is UP"; then
  say "starting slurmctld"
  slurmctld -f "$conf" || fail "slurmctld did not start (see $state/log/slurmctld.log)"
  for _ in $(seq 30); do scontrol ping 2>/dev/null | grep -q "is UP" && break; sleep 1; done
fi
scontrol ping 2>/dev/null | grep -q "is UP" || fail "slurmctld is not up (see $state/log/slurmctld.log)"
if ! running "$state/slurmd.pid"; then
  say "starting slurmd (node localhost)"
  slurmd -f "$conf" -N localhost || fail "slurmd did not start (see $state/log/slurmd.log)"
fi
node=""
for _ in $(seq 30); do
  node="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
  case "$node" in idle*|mixed*|allocated*) break ;; esac
  case "$node" in down*|drain*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;; esac
  sleep 1
done
case "$node" in idle*|mixed*|allocated*) ;; *) fail "node localhost is '$node', not usable (see $state/log/slurmd.log)" ;; esac
say "up: node localhost ($node, $cpus CPUs); export SLURM_CONF=$conf"
