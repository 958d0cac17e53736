# shellcheck shell=bash
# The servers of a run and the targets wrk is pointed at. Every server listens on 127.0.0.1 on a port claimed by
# claim_free_port and is verified to own it before it is used. Sourced by bench/run.sh.
#
# A target is: a port to send requests to, the PIDs whose CPU and memory count as "the proxy", and the request
# headers it needs. Targets live in associative arrays keyed by target name.

declare -A TARGET_PORT=()     # name → port
declare -A TARGET_PID=()      # name → main PID ("" for the direct upstream: no proxy in between)
declare -A TARGET_HEADERS=()  # name → extra request header (one), e.g. the session cookie

# The order of the comparison: each round sends the same scenario to every target in this order. All are started;
# the throughput scenarios leave out gh-sess-user, which differs from gh-sess-rl only in its Redis round trips
# (measured at c=1 and by the Redis probe).
ALL_TARGETS=(direct nginx nginx-limit gh-pass gh-rl gh-sess-rl gh-mem gh-sess-user gh-sess-off)
THROUGHPUT_TARGETS=(direct nginx nginx-limit gh-pass gh-rl gh-sess-rl gh-mem)
# gh-sess-off is gh-sess-rl with busy polling off (every target runs the default, `auto`): measured at c=1, where
# it matters, at c=50, to show what it does under load, and at light load, where it could cost CPU for nothing.
C50_EXTRA_TARGETS=(gh-sess-off)

declare -A TARGET_TITLE=(
  [direct]="direct upstream (no proxy)"
  [nginx]="nginx proxy_pass + keepalive"
  [nginx-limit]="nginx + limit_req"
  [gh-pass]="Gatehouse pass-through"
  [gh-rl]="Gatehouse rate limit (Redis)"
  [gh-sess-rl]="Gatehouse session + rate limit (Redis)"
  [gh-mem]="Gatehouse session + rate limit (memory)"
  [gh-sess-user]="Gatehouse session + per-user rate limit (Redis)"
  [gh-sess-off]="Gatehouse session + rate limit (Redis), busy_poll off"
)

BENCH_SESSION_ID=bench-session-0123456789abcdef
BENCH_SESSION_COOKIE="Cookie: sid=$BENCH_SESSION_ID"

# render_template TEMPLATE OUTPUT KEY=VALUE...: replaces each @KEY@ of TEMPLATE.
render_template() {
  local template=$1 output=$2
  shift 2
  local expressions=() pair
  for pair in "$@"; do expressions+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
  sed "${expressions[@]}" "$template" >"$output"
  if grep -q '@[A-Z_]*@' "$output"; then die "unfilled placeholder in $output"; fi
}

# start_nginx NAME TEMPLATE WORKERS [KEY=VALUE...]: an nginx in the foreground with a config rendered into RUN_DIR.
start_nginx() {
  local name=$1 template=$2 workers=$3
  shift 3
  claim_free_port
  local port=$FREE_PORT
  local config="$RUN_DIR/$name.nginx.conf"
  render_template "$BENCH_DIR/conf/$template" "$config" NAME="$name" PORT="$port" WORKERS="$workers" \
    RUN_DIR="$RUN_DIR" "$@"
  start_process "$name" "$RUN_DIR/$name.log" nginx -p "$RUN_DIR" -c "$config" -g 'daemon off;'
  wait_for_listener "$LAST_PID" "$port" "$name"
  TARGET_PORT[$name]=$port
  TARGET_PID[$name]=$LAST_PID
}

# start_gatehouse NAME CONFIG WORKERS [BINARY]: Gatehouse (GATEHOUSE_BIN unless BINARY is given) with one of
# bench/conf's configs; the config reads the BENCH_* variables through its own ${VAR} substitution.
# GATEHOUSE_PREFIX (an array, usually empty) runs Gatehouse under another program: bench/count.sh uses valgrind.
# BUSY_POLL (default auto, the binary's default) becomes the config's busy_poll.
start_gatehouse() {
  local name=$1 config=$2 workers=$3 binary=${4:-$GATEHOUSE_BIN}
  claim_free_port
  local port=$FREE_PORT
  BENCH_PORT=$port BENCH_WORKERS=$workers BENCH_UPSTREAM_PORT=$UPSTREAM_PORT BENCH_BUSY_POLL=${BUSY_POLL:-auto} \
    BENCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
    start_process "$name" "$RUN_DIR/$name.log" ${GATEHOUSE_PREFIX[@]+"${GATEHOUSE_PREFIX[@]}"} "$binary" --config "$BENCH_DIR/conf/$config"
  wait_for_listener "$LAST_PID" "$port" "$name"
  TARGET_PORT[$name]=$port
  TARGET_PID[$name]=$LAST_PID
}

# The upstream and Redis live for the whole run; the proxies are started per worker count.
start_backends() {
  local large_mib=$1
  # A sparse file: the disk is not written, the page cache serves zeros.
  truncate -s "${large_mib}M" "$RUN_DIR/large.bin"
  cat "$RUN_DIR/large.bin" >/dev/null  # into the page cache now, so that no target pays for the first read
  start_nginx upstream upstream.nginx.conf.in "$UPSTREAM_WORKERS"
  UPSTREAM_PORT=${TARGET_PORT[upstream]}
  UPSTREAM_PID=${TARGET_PID[upstream]}
  unset 'TARGET_PORT[upstream]' 'TARGET_PID[upstream]'
  TARGET_PORT[direct]=$UPSTREAM_PORT
  TARGET_PID[direct]=""

  claim_free_port
  REDIS_PORT=$FREE_PORT
  # No persistence: nothing is written to disk during a run.
  start_process redis "$RUN_DIR/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --daemonize no --protected-mode yes
  REDIS_PID=$LAST_PID
  wait_for_listener "$REDIS_PID" "$REDIS_PORT" redis
  redis-cli -p "$REDIS_PORT" SET "session:$BENCH_SESSION_ID" '{"username":"bench","role":"user"}' PX 86400000 \
    >/dev/null || die "cannot store the benchmark session in Redis"
}

# start_target NAME WORKERS: one proxy target of ALL_TARGETS ("direct" is the upstream itself: nothing to start).
start_target() {
  local name=$1 workers=$2
  # "<target>-base": the same target run by the baseline binary (bench/run.sh --baseline).
  local kind=${name%-base} binary=$GATEHOUSE_BIN
  [[ $kind != "$name" ]] && binary=$BASELINE_BIN
  case $kind in
    direct) ;;
    nginx) start_nginx nginx proxy.nginx.conf.in "$workers" UPSTREAM_PORT="$UPSTREAM_PORT" ;;
    nginx-limit) start_nginx nginx-limit proxy_limit_req.nginx.conf.in "$workers" UPSTREAM_PORT="$UPSTREAM_PORT" ;;
    gh-pass) start_gatehouse "$name" gatehouse_passthrough.yaml "$workers" "$binary" ;;
    gh-rl) start_gatehouse "$name" gatehouse_ratelimit_redis.yaml "$workers" "$binary" ;;
    gh-sess-rl | gh-mem | gh-sess-user)
      local -A configs=([gh-sess-rl]=gatehouse_session_ratelimit_redis.yaml
        [gh-mem]=gatehouse_session_ratelimit_memory.yaml [gh-sess-user]=gatehouse_session_userlimit_redis.yaml)
      start_gatehouse "$name" "${configs[$kind]}" "$workers" "$binary"
      TARGET_HEADERS[$name]=$BENCH_SESSION_COOKIE
      ;;
    gh-sess-off)
      BUSY_POLL=off start_gatehouse "$name" gatehouse_session_ratelimit_redis.yaml "$workers" "$binary"
      TARGET_HEADERS[$name]=$BENCH_SESSION_COOKIE
      ;;
    *) die "unknown target '$name' (known: ${!TARGET_TITLE[*]})" ;;
  esac
}

# add_baseline_targets BINARY: each Gatehouse target of ALL_TARGETS gets a twin run by BINARY, right after it in
# the interleaved order.
add_baseline_targets() {
  BASELINE_BIN=$1
  [[ -x $BASELINE_BIN ]] || die "--baseline: no executable at $BASELINE_BIN"
  local name with_twins=()
  for name in "${ALL_TARGETS[@]}"; do
    with_twins+=("$name")
    if [[ $name == gh-* ]]; then
      with_twins+=("$name-base")
      TARGET_TITLE[$name-base]="${TARGET_TITLE[$name]} [baseline: ${BASELINE_BIN#"$REPO_DIR"/}]"
    fi
  done
  ALL_TARGETS=("${with_twins[@]}")
  THROUGHPUT_TARGETS=("${with_twins[@]}")
}

# Starts every target of ALL_TARGETS with WORKERS workers and checks that each answers.
start_proxies() {
  local workers=$1 name
  for name in "${ALL_TARGETS[@]}"; do start_target "$name" "$workers"; done
  check_targets
}

stop_proxies() {
  local name pids=()
  for name in "${ALL_TARGETS[@]}"; do
    [[ -n ${TARGET_PID[$name]:-} ]] && pids+=("${TARGET_PID[$name]}")
  done
  stop_processes "${pids[@]}"
}

# One request to each target must answer 200 before anything is measured: a misconfigured target would otherwise
# show up as a fast stream of errors.
check_targets() {
  local name status
  for name in "${ALL_TARGETS[@]}"; do
    local header=()
    [[ -n ${TARGET_HEADERS[$name]:-} ]] && header=(-H "${TARGET_HEADERS[$name]}")
    status=$(curl -s -o "$RUN_DIR/check-$name.body" -w '%{http_code}' --max-time 5 "${header[@]}" \
      "http://127.0.0.1:${TARGET_PORT[$name]}/") || true
    [[ $status == 200 ]] || die "$name answered '$status' instead of 200 (body: $RUN_DIR/check-$name.body)"
  done
}

# The PIDs that count as the target's proxy: the main process and its children (nginx's workers).
target_pids() {
  local pid=${TARGET_PID[$1]}
  [[ -z $pid ]] && return 0
  process_tree "$pid"
}
