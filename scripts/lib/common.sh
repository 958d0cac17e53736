# shellcheck shell=bash
# Helpers shared by the scripts in scripts/. Source it; it defines functions and GATEHOUSE_ROOT, nothing else.

GATEHOUSE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GATEHOUSE_ROOT

# Messages go to stderr, prefixed with the running script's name, so stdout stays usable for data.
log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1. Uses bash's /dev/tcp: no netcat or ss needed.
tcp_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a loopback TCP port nothing listens on, below the kernel's ephemeral range: a port in that range may be the
# local end of some outgoing connection, which no connect() test reveals but which makes bind() fail. Another process
# may still take the port before the caller binds it, so callers check that their server came up (and may retry).
pick_free_port() {
  local low=32768 high attempt port
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r low high </proc/sys/net/ipv4/ip_local_port_range
    : "$high"
  fi
  ((low > 11000)) || low=32768 # an unusual range: fall back to Linux's default low bound
  for attempt in $(seq 1 50); do
    port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
    if ! tcp_port_open "$port"; then
      echo "$port"
      return 0
    fi
    : "$attempt"
  done
  die "no free loopback port found after 50 tries"
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1s until it succeeds or SECONDS pass. Returns 1 on timeout.
# COMMAND returning 2 means "it will never succeed" (the process died): give up at once.
wait_until() {
  local seconds=$1
  shift
  local tries=$((seconds * 10)) i rc
  for ((i = 0; i < tries; i++)); do
    rc=0
    "$@" || rc=$?
    if [[ $rc -eq 0 ]]; then return 0; fi
    if [[ $rc -eq 2 ]]; then return 1; fi
    sleep 0.1
  done
  return 1
}

# True when the process with PID $1 is still running.
pid_alive() { kill -0 "$1" 2>/dev/null; }

# stop_pid PID [NAME]: SIGTERM, up to 10s to exit, then SIGKILL. Only ever the PID we started ourselves.
stop_pid() {
  local pid=$1 name=${2:-process} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Commands that need root: run directly as root (CI, docker), through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "'$*' needs root, and sudo is not installed"
  fi
}
