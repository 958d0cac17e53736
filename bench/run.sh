#!/usr/bin/env bash
# Measures Gatehouse against nginx and the bare upstream, on loopback, in one command. See bench/README.md.
#
#   bench/run.sh            the full comparison (under 10 minutes)
#   bench/run.sh --quick    a smaller one (under 2 minutes)
#
# Everything it needs (upstream, Redis, nginx and Gatehouse instances) is started on free loopback ports, recorded
# by PID and stopped by PID when the script exits, whichever way it exits.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
# shellcheck source=lib/targets.sh
source "$BENCH_DIR/lib/targets.sh"
# shellcheck source=lib/scenarios.sh
source "$BENCH_DIR/lib/scenarios.sh"
# shellcheck source=lib/report.sh
source "$BENCH_DIR/lib/report.sh"

usage() {
  cat <<'EOF'
Usage: bench/run.sh [--quick] [options]

  --quick             a smaller run (under 2 minutes): fewer scenarios, repetitions and connections
  --workers "1 2"     worker counts to compare (nginx worker_processes = Gatehouse workers)
  --reps N            repetitions of each interleaved round
  --seconds N         length of each wrk run
  --idle N            idle keep-alive connections to open (default 10000; quick 2000)
  --large-mib N       size of the streamed response (default 256; quick 64)
  --gatehouse PATH    the Gatehouse binary (default: build/proxy/gatehouse, else built in build-bench, Release)
  --no-pin            do not pin wrk to a CPU
  --nginx-only        leave Gatehouse out (to check the harness when Gatehouse does not build)
  -h, --help          this help

Results: bench/results/<date-time>/ (summary.md, raw.csv, idle.csv, large.csv, redis_probe.csv, logs);
bench/results/latest points at the newest.
EOF
}

# ---- options -----------------------------------------------------------------------------------------------------

MODE=full
WORKERS_LIST="1 2"
REPS=3
SECONDS_PER_RUN=3
IDLE_CONNECTIONS=10000
LARGE_MIB=256
PIN=1
NGINX_ONLY=0
GATEHOUSE_BIN=${GATEHOUSE_BIN:-}
UPSTREAM_WORKERS=1
declare -a OVERRIDES=()

while (($# > 0)); do
  case $1 in
    --quick) MODE=quick ;;
    --workers) WORKERS_LIST=$2; OVERRIDES+=(workers); shift ;;
    --reps) REPS=$2; OVERRIDES+=(reps); shift ;;
    --seconds) SECONDS_PER_RUN=$2; OVERRIDES+=(seconds); shift ;;
    --idle) IDLE_CONNECTIONS=$2; OVERRIDES+=(idle); shift ;;
    --large-mib) LARGE_MIB=$2; OVERRIDES+=(large); shift ;;
    --gatehouse) GATEHOUSE_BIN=$2; shift ;;
    --no-pin) PIN=0 ;;
    --nginx-only) NGINX_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

overridden() { [[ " ${OVERRIDES[*]} " == *" $1 "* ]]; }
if [[ $MODE == quick ]]; then
  overridden reps || REPS=1
  overridden seconds || SECONDS_PER_RUN=2
  overridden idle || IDLE_CONNECTIONS=2000
  overridden large || LARGE_MIB=64
fi

# ---- dependencies, binaries, limits ------------------------------------------------------------------------------

ensure_tools() {
  local missing=() tool
  for tool in wrk nginx redis-server redis-cli curl ss taskset awk pgrep; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ -x $REPO_DIR/scripts/install-deps.sh ]]; then
    log "missing: ${missing[*]}; running scripts/install-deps.sh --bench"
    "$REPO_DIR/scripts/install-deps.sh" --bench || die "scripts/install-deps.sh --bench failed"
  else
    die "missing tools: ${missing[*]} (Debian: apt-get install wrk nginx-light redis-server curl iproute2 util-linux procps)"
  fi
  for tool in "${missing[@]}"; do command -v "$tool" >/dev/null || die "$tool is still missing"; done
}

# The build type recorded next to a binary (CMakeCache.txt of its build tree), "unknown" when there is none.
build_type_of() {
  local dir
  dir=$(dirname "$(readlink -f "$1")")
  while [[ $dir != / ]]; do
    if [[ -f $dir/CMakeCache.txt ]]; then
      sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$dir/CMakeCache.txt"
      return
    fi
    dir=$(dirname "$dir")
  done
  echo unknown
}

# Gatehouse and the idle-connection helper: given, found in build/ (scripts/build.sh Release), or built here.
ensure_binaries() {
  local own_build="$REPO_DIR/build-bench"
  if [[ -z $GATEHOUSE_BIN && -x $REPO_DIR/build/proxy/gatehouse ]]; then GATEHOUSE_BIN=$REPO_DIR/build/proxy/gatehouse; fi
  IDLE_HELPER_BIN=""
  if [[ -n $GATEHOUSE_BIN ]]; then
    local helper
    helper="$(dirname "$(dirname "$GATEHOUSE_BIN")")/bench/bench_idle_connections"
    [[ -x $helper ]] && IDLE_HELPER_BIN=$helper
  fi
  local targets=()
  [[ -z $GATEHOUSE_BIN && $NGINX_ONLY == 0 ]] && targets+=(gatehouse)
  [[ -z $IDLE_HELPER_BIN ]] && targets+=(bench_idle_connections)
  if ((${#targets[@]} > 0)); then
    log "building ${targets[*]} (Release) in $own_build"
    cmake -S "$REPO_DIR" -B "$own_build" -DCMAKE_BUILD_TYPE=Release -DGATEHOUSE_BUILD_TESTS=OFF >"$own_build.log" 2>&1 ||
      die "cmake configure failed; see $own_build.log"
    cmake --build "$own_build" --target "${targets[@]}" -j "$(nproc)" >>"$own_build.log" 2>&1 ||
      die "build failed; see $own_build.log"
    [[ -z $GATEHOUSE_BIN && $NGINX_ONLY == 0 ]] && GATEHOUSE_BIN=$own_build/proxy/gatehouse
    [[ -z $IDLE_HELPER_BIN ]] && IDLE_HELPER_BIN=$own_build/bench/bench_idle_connections
  fi
  GATEHOUSE_BUILD_TYPE=n/a
  if [[ $NGINX_ONLY == 0 ]]; then
    [[ -x $GATEHOUSE_BIN ]] || die "no Gatehouse binary at $GATEHOUSE_BIN"
    GATEHOUSE_BUILD_TYPE=$(build_type_of "$GATEHOUSE_BIN")
    case $GATEHOUSE_BUILD_TYPE in
      Release | RelWithDebInfo) ;;
      *) die "$GATEHOUSE_BIN is a '$GATEHOUSE_BUILD_TYPE' build; benchmark a Release build (scripts/build.sh Release)" ;;
    esac
  fi
}

# 10,000 idle connections need 10,000 descriptors in the helper and in each proxy worker.
raise_file_limit() {
  local needed=$((IDLE_CONNECTIONS + 1024)) hard
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited ]] && ((hard < needed)); then
    IDLE_CONNECTIONS=$((hard - 1024))
    log "the hard open-file limit is $hard: opening $IDLE_CONNECTIONS idle connections instead"
  fi
  ulimit -n "$([[ $hard == unlimited ]] && echo "$needed" || echo "$hard")"
}

# ---- the run -----------------------------------------------------------------------------------------------------

on_exit() {
  local status=$?
  stop_all_processes
  if ((status != 0)); then log "stopped (exit $status); logs in ${RUN_DIR:-?}"; fi
}

main() {
  ensure_tools
  ensure_binaries
  raise_file_limit

  local stamp
  stamp=$(date '+%Y%m%d-%H%M%S')
  RUN_DIR="$BENCH_DIR/results/$stamp"
  mkdir -p "$RUN_DIR"
  ln -sfn "$stamp" "$BENCH_DIR/results/latest"
  trap on_exit EXIT
  trap 'exit 130' INT TERM

  # wrk needs a CPU of its own to measure the proxies rather than itself: on a small machine it gets the last CPU
  # and the servers share the others with it through the scheduler (the same for every target).
  local cpus
  cpus=$(nproc)
  if [[ $PIN == 1 && $cpus -ge 2 ]]; then
    WRK_CPUS=$((cpus - 1))
    WRK_THREADS=1
    PINNING="wrk pinned to CPU $WRK_CPUS with 1 thread (taskset); servers not pinned"
  else
    WRK_CPUS=""
    WRK_THREADS=2
    PINNING="nothing pinned; wrk with 2 threads"
  fi
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

  if [[ $NGINX_ONLY == 1 ]]; then ALL_TARGETS=(direct nginx nginx-limit); fi
  local gatehouse_targets=()
  [[ $NGINX_ONLY == 0 ]] && gatehouse_targets=(gh-pass gh-rl gh-sess-rl gh-mem)

  log "$MODE run: workers [$WORKERS_LIST], $REPS rep(s) x ${SECONDS_PER_RUN}s, results in $RUN_DIR"
  echo "$RAW_HEADER" >"$RUN_DIR/raw.csv"
  start_backends "$LARGE_MIB"

  local workers first=1
  for workers in $WORKERS_LIST; do
    start_proxies "$workers"
    warm_up "${ALL_TARGETS[@]}"
    interleaved_rounds c50 "$workers" 50 / "${ALL_TARGETS[@]}"
    [[ $MODE == full ]] && interleaved_rounds c200 "$workers" 200 / "${ALL_TARGETS[@]}"
    if ((first)); then
      # One connection lands on one worker, so c=1 latency and the per-request Redis traffic are measured once.
      interleaved_rounds c1 "$workers" 1 / "${ALL_TARGETS[@]}"
      local storm_targets=(nginx-limit)
      [[ $NGINX_ONLY == 0 ]] && storm_targets+=(gh-rl gh-mem)
      interleaved_rounds storm-c50 "$workers" 50 /storm "${storm_targets[@]}"
      [[ $NGINX_ONLY == 0 ]] && redis_probe "$workers" gh-rl gh-sess-rl
      idle_connections "$workers" nginx "${gatehouse_targets[@]:0:1}"
      large_body "$workers" direct nginx "${gatehouse_targets[@]:0:1}"
      first=0
    fi
    stop_proxies
  done

  write_summary >"$RUN_DIR/summary.md"
  cat "$RUN_DIR/summary.md"
  log "done in ${SECONDS}s: $RUN_DIR/summary.md"
}

main
