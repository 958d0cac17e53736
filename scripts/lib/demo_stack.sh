# shellcheck shell=bash disable=SC2034,SC2153 # globals here are read, and PORT/ADMIN set, by the sourcing script
# Starting and stopping the demo's processes (redis-server, the demo app, gatehouse). Source after common.sh.
# Every process is started in the background, its PID remembered, and stopped by that PID (stop_demo_stack).
#
# The start_* functions report through globals, not stdout: they must not run in a $(...) subshell, where the PID of
# the process they start would be lost (and the process would hold the substitution's pipe open).
# Sets: DEMO_WORKDIR (logs, redis dir), REDIS_PID/APP_PID/GATEHOUSE_PID, REDIS_PORT, APP_ADDRESS.

DEMO_WORKDIR=""
REDIS_PORT=""
APP_ADDRESS=""
REDIS_PID=""
APP_PID=""
GATEHOUSE_PID=""

make_demo_workdir() {
  DEMO_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/demo-stack.XXXXXX")
}

stop_demo_stack() {
  # A child forked for a `cmd &` runs this shell's traps until it execs: if a signal lands in that window, the
  # child must not tear down the parent's processes and directory.
  [[ $BASHPID == "$$" ]] || return 0
  # Reverse start order: Gatehouse first, so it drains before its upstream and store go away.
  [[ -n $GATEHOUSE_PID ]] && stop_pid "$GATEHOUSE_PID" gatehouse
  [[ -n $APP_PID ]] && stop_pid "$APP_PID" "demo app"
  [[ -n $REDIS_PID ]] && stop_pid "$REDIS_PID" redis-server
  GATEHOUSE_PID="" APP_PID="" REDIS_PID=""
  if [[ -n $DEMO_WORKDIR && -d $DEMO_WORKDIR ]]; then rm -rf "$DEMO_WORKDIR"; fi
  DEMO_WORKDIR=""
}

# redis_answers PORT PID: PONG from the redis-server we started; fails fast (exit 2 ends wait_until) when it died.
redis_answers() {
  pid_alive "$2" || return 2
  [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]
}

# start_redis: a throwaway redis-server on a free loopback port, no persistence. Sets REDIS_PORT.
# A port picked free can be taken before redis binds it: then redis exits at once, and another port is tried.
start_redis() {
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (scripts/install-deps.sh)"
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(pick_free_port)
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$DEMO_WORKDIR" \
      --logfile "$DEMO_WORKDIR/redis.log" --daemonize no >/dev/null 2>&1 &
    REDIS_PID=$!
    if wait_until 10 redis_answers "$port" "$REDIS_PID"; then
      REDIS_PORT=$port
      return 0
    fi
    stop_pid "$REDIS_PID" redis-server
    REDIS_PID=""
    log "redis-server did not come up on port $port (attempt $attempt): $(tail -n 1 "$DEMO_WORKDIR/redis.log" 2>/dev/null)"
  done
  die "could not start redis-server; its log: $DEMO_WORKDIR/redis.log"
}

app_listening_line() { grep -m1 -o 'listening on [^ ]*' "$DEMO_WORKDIR/app.log" 2>/dev/null; }
app_listening() {
  pid_alive "$APP_PID" || return 2
  # Not grep's own status: grep answers 2 while the log does not exist yet, and 2 tells wait_until to give up.
  app_listening_line >/dev/null || return 1
}

# start_demo_app BINARY [REDIS_URL]: the demo app on a port the kernel picks (--port 0). Sets APP_ADDRESS.
start_demo_app() {
  local binary=$1 redis_url=${2:-}
  local args=(--port 0)
  [[ -n $redis_url ]] && args+=(--redis "$redis_url")
  "$binary" "${args[@]}" >"$DEMO_WORKDIR/app.log" 2>&1 &
  APP_PID=$!
  if ! wait_until 10 app_listening; then
    if [[ ! -d $DEMO_WORKDIR ]]; then
      die "the demo app did not start: $DEMO_WORKDIR was removed from under this script"
    fi
    cat "$DEMO_WORKDIR/app.log" >&2
    die "the demo app did not start"
  fi
  APP_ADDRESS=$(app_listening_line | sed 's/^listening on //')
}

gatehouse_healthy() {
  pid_alive "$GATEHOUSE_PID" || return 2
  curl -fsS -o /dev/null --max-time 1 "http://$1/healthz" 2>/dev/null || return 1
}

# start_gatehouse BINARY CONFIG LOGFILE: runs Gatehouse with the environment the caller exported (PORT, ADMIN,
# UPSTREAM, STORE, REDIS_URL, RATE_LIMIT_*...) and waits until its admin /healthz and its listener answer.
# LOGFILE may be /dev/stdout to show the access log live.
start_gatehouse() {
  local binary=$1 config=$2 log_file=$3
  "$binary" --config "$config" >>"$log_file" 2>&1 &
  GATEHOUSE_PID=$!
  local admin_port=${ADMIN##*:}
  if ! wait_until 15 gatehouse_healthy "127.0.0.1:$admin_port" || ! wait_until 5 tcp_port_open "$PORT"; then
    pid_alive "$GATEHOUSE_PID" || log "gatehouse exited during startup"
    [[ -f $log_file ]] && tail -n 50 "$log_file" >&2
    die "gatehouse did not become healthy on admin 127.0.0.1:$admin_port / port $PORT"
  fi
}
