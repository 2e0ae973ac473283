#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's packages (slurmctld, slurmd, munge,
# slurm-client), for the sweep's integration test (SlurmSweepIT) and for trying `shears experiment
# submit` by hand. Not a production set-up: one node, root daemons, no accounting, no cgroups
# (they rarely work in containers): processes are tracked by /proc (proctrack/linuxproc).
#
#   scripts/slurm-local.sh start    installs what is missing (apt-get, as root), starts munged,
#                                   slurmctld and slurmd, waits until the node is idle; prints
#                                   the line to export (SLURM_CONF=...) on stdout, last
#   scripts/slurm-local.sh install  only installs what is missing (CI calls this before ./test)
#   scripts/slurm-local.sh stop     stops the daemons this script started (by their pid files)
#   scripts/slurm-local.sh status   sinfo of the local cluster
#
# State, logs and slurm.conf live in $SHEARS_SLURM_DIR (default: ${TMPDIR:-/tmp}/shears-slurm).
# SHEARS_SLURM_CPUS sets the CPUs the node offers (default: 8, more than most CI machines have,
# so four small workers run at once; slurmd is told to accept the difference).
set -euo pipefail
dir=${SHEARS_SLURM_DIR:-${TMPDIR:-/tmp}/shears-slurm}
conf="$dir/slurm.conf"
cpus=${SHEARS_SLURM_CPUS:-8}
ctld_port=${SHEARS_SLURM_CTLD_PORT:-6817}
slurmd_port=${SHEARS_SLURM_SLURMD_PORT:-6818}

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
  command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
  command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
  command -v munged >/dev/null 2>&1 || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]} and not root: cannot install them (apt-get install ${missing[*]})"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get on this machine"
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || true
  # policy-rc.d: the packages' own services must not start (this script starts the daemons itself)
  local rc=/usr/sbin/policy-rc.d made=0
  if [ ! -e "$rc" ]; then printf '#!/bin/sh\nexit 101\n' > "$rc"; chmod +x "$rc"; made=1; fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || { [ $made = 1 ] && rm -f "$rc"; die "apt-get install ${missing[*]} failed"; }
  [ $made = 1 ] && rm -f "$rc"
  return 0
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_works; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key --force >&2
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null; fi
  fi
  chown -R munge:munge /etc/munge 2>/dev/null || true
  chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 0755 /run/munge
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged </dev/null >>"$dir/munged.log" 2>&1 || true
  else
    munged --force </dev/null >>"$dir/munged.log" 2>&1 || true
  fi
  # remember that this script started it (stop ends it then, and only then)
  local pid; pid=$(cat /run/munge/munged.pid 2>/dev/null || pgrep -n -x munged || true)
  [ -n "$pid" ] && echo "$pid" > "$dir/munged.pid"
  for _ in $(seq 1 50); do munge_works && return 0; sleep 0.1; done
  die "munged did not start (log: $dir/munged.log)"
}

write_conf() {
  local host mem
  host=$(hostname -s)
  mem=$(awk '/MemTotal/ {print int($2/1024/2)}' /proc/meminfo)
  mkdir -p "$dir/state" "$dir/spool"
  cat > "$conf" <<EOF
# Written by scripts/slurm-local.sh: one node, root daemons, no cgroups, no accounting.
ClusterName=shears-local
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
KillWait=5
InactiveLimit=0
MinJobAge=300
SchedulerParameters=sched_interval=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  # an empty cgroup.conf: slurmd reads it even when no cgroup plugin is configured
  printf 'CgroupPlugin=autodetect\nIgnoreSystemd=yes\n' > "$dir/cgroup.conf"
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install_packages
  [ "$(id -u)" = 0 ] || die "not root: slurmd must run as root here (CI runs as root)"
  mkdir -p "$dir"
  start_munge
  write_conf
  export SLURM_CONF="$conf"
  if ! alive "$dir/slurmctld.pid"; then
    # -i: ignore state files of an earlier run; -c: clear jobs of an earlier run
    setsid slurmctld -f "$conf" -i -c </dev/null >>"$dir/slurmctld.out" 2>&1 || die "slurmctld failed to start (log: $dir/slurmctld.log)"
  fi
  if ! alive "$dir/slurmd.pid"; then
    setsid slurmd -f "$conf" </dev/null >>"$dir/slurmd.out" 2>&1 || die "slurmd failed to start (log: $dir/slurmd.log)"
  fi
  local host; host=$(hostname -s)
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in
      idle*|mix*|alloc*) say "node $host is $state; SLURM_CONF=$conf"; echo "export SLURM_CONF=$conf"; return 0 ;;
      down*|drain*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  say "the node did not come up (state '${state:-none}'); logs: $dir/slurmctld.log $dir/slurmd.log"
  tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 2>/dev/null || true
  stop
  exit 1
}

stop() {
  export SLURM_CONF="$conf"
  for d in slurmd slurmctld munged; do
    local f="$dir/$d.pid"
    if alive "$f"; then
      local pid; pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  say "stopped"
}

case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  status) alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && SLURM_CONF="$conf" sinfo ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
