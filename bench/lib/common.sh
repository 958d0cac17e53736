# shellcheck shell=bash
# Logging, free loopback ports, and the processes the benchmark starts: every one is recorded by PID and stopped
# by PID on exit, nothing is stopped by name. Sourced by bench/run.sh.

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---- ports -------------------------------------------------------------------------------------------------------

# Ports are taken below the kernel's ephemeral range, so that no outgoing connection of the run can hold one.
BENCH_PORT_MIN=${BENCH_PORT_MIN:-20000}
BENCH_PORT_MAX=${BENCH_PORT_MAX:-32000}
declare -a CLAIMED_PORTS=()

port_is_listening() { [[ -n $(ss -Htln "sport = :$1") ]]; }

# Sets FREE_PORT to a loopback port that nothing listens on and this run has not claimed yet. (Not printed: the
# claim must be recorded in this shell, not in a command substitution's subshell.)
claim_free_port() {
  local span=$((BENCH_PORT_MAX - BENCH_PORT_MIN)) attempt port
  for ((attempt = 0; attempt < 200; attempt++)); do
    port=$((BENCH_PORT_MIN + (RANDOM * 32768 + RANDOM) % span))
    [[ " ${CLAIMED_PORTS[*]} " == *" $port "* ]] && continue
    port_is_listening "$port" && continue
    CLAIMED_PORTS+=("$port")
    FREE_PORT=$port
    return 0
  done
  die "no free port found between $BENCH_PORT_MIN and $BENCH_PORT_MAX"
}

# ---- processes ---------------------------------------------------------------------------------------------------

declare -a STARTED_PIDS=()
declare -A PID_NAMES=()

# start_process NAME LOGFILE CMD...: runs CMD in the background, records its PID. The command must stay in the
# foreground itself (nginx -g 'daemon off;', redis-server --daemonize no), so that the PID is the server's.
start_process() {
  local name=$1 logfile=$2
  shift 2
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  STARTED_PIDS+=("$pid")
  PID_NAMES[pid]=$name
  LAST_PID=$pid
}

# The PIDs that do the work of a server: itself and its direct children (nginx's workers).
process_tree() {
  local pid=$1
  echo "$pid"
  pgrep -P "$pid" || true
}

# wait_for_listener PID PORT NAME: waits until PORT listens and refuses to go on unless PID (or one of its children)
# owns the listening socket: a port taken by another program in the meantime must not be measured in our place.
wait_for_listener() {
  local pid=$1 port=$2 name=$3 attempt owners
  for ((attempt = 0; attempt < 100; attempt++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      die "$name (pid $pid) exited during start-up; see $RUN_DIR/$name.log"
    fi
    owners=$(ss -Htlnp "sport = :$port" 2>/dev/null)
    # ss maps sockets to processes from a /proc scan made before it lists the sockets: a socket created in between
    # shows without its owner, so that answer proves nothing either way and is asked again.
    if [[ -n $owners && $owners == *users:* ]]; then
      local p
      for p in $(process_tree "$pid"); do
        [[ $owners == *"pid=$p,"* ]] && return 0
      done
      die "port $port is busy with another program (wanted for $name): $owners"
    fi
    sleep 0.1
  done
  die "$name (pid $pid) did not listen on 127.0.0.1:$port within 10s; see $RUN_DIR/$name.log"
}

# stop_process PID: SIGTERM, then SIGKILL after 5s. Only ever a PID this run started.
stop_process() {
  local pid=$1 attempt
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((attempt = 0; attempt < 50; attempt++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "${PID_NAMES[$pid]:-pid $pid} ignored SIGTERM for 5s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops everything started so far, newest first (proxies before the upstream and Redis they use).
stop_all_processes() {
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    stop_process "${STARTED_PIDS[i]}"
  done
  STARTED_PIDS=()
}

# Stops the given PIDs and forgets them.
stop_processes() {
  local pid kept=() stopped=" $* "
  for pid in "$@"; do stop_process "$pid"; done
  for pid in "${STARTED_PIDS[@]}"; do
    [[ $stopped == *" $pid "* ]] || kept+=("$pid")
  done
  STARTED_PIDS=("${kept[@]}")
}
