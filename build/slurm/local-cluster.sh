#!/usr/bin/env bash
# A throwaway single-node Slurm (munged, slurmctld and slurmd on this host) with every file in DIR, for trying
# the scripts here and for the tests. Needs root and Debian's slurm-wlm and munge (build/install-deps.sh).
#   build/slurm/local-cluster.sh start DIR   writes DIR/slurm.conf, starts the daemons, waits for the node
#   build/slurm/local-cluster.sh stop DIR    stops them by their pid files (what start left running)
# Then run Slurm's commands with SLURM_CONF=DIR/slurm.conf. No cgroups or accounting: linuxproc tracks the tasks.
set -euo pipefail
command="${1:-}" dir="${2:-}"
if [ -z "$dir" ] || [[ "$command" != start && "$command" != stop ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

stop() {
  local status=0
  # Jobs first, so no task outlives the daemons that track it.
  if [ -s "$dir/slurmctld.pid" ]; then
    SLURM_CONF="$dir/slurm.conf" PATH="$PATH:/usr/sbin" scancel --user "$(id -un)" 2>/dev/null && sleep 1 || true
  fi
  for daemon in slurmd slurmctld munged; do
    local pidfile="$dir/$daemon.pid"
    [ -s "$pidfile" ] || continue
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || status=1; fi
    rm -f "$pidfile"
  done
  return "$status"
}

if [ "$command" = stop ]; then
  stop
  exit
fi

for tool in munged slurmctld slurmd sinfo; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "error: $tool is not installed (apt-get install slurm-wlm munge)" >&2
    exit 3
  fi
done
if [ "$(id -u)" -ne 0 ]; then echo "error: a local Slurm runs its daemons as root" >&2; exit 3; fi
# A port nothing listens on, so two clusters (or a real one) on the same host do not meet.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    grep -qi ":$(printf '%04X' "$port") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$port"; return; }
  done
}
host="$(hostname -s)"
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
mkdir -p "$dir/state" "$dir/spool"
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 400 "$dir/munge.key"
cat >"$dir/slurm.conf" <<CONF
ClusterName=nativeseg-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=sched_interval=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
trap 'stop' ERR
PATH="$PATH:/usr/sbin"
munged --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" --log-file="$dir/munged.log" \
  --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 300); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then exit 0; fi
  sleep 0.1
done
echo "error: the node did not become idle in 30 s; see $dir/slurmctld.log and $dir/slurmd.log" >&2
stop
exit 1
