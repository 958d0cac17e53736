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
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
# shellcheck source-path=SCRIPTDIR source=lib/targets.sh
source "$BENCH_DIR/lib/targets.sh"
# shellcheck source-path=SCRIPTDIR source=lib/scenarios.sh
source "$BENCH_DIR/lib/scenarios.sh"
# shellcheck source-path=SCRIPTDIR source=lib/report.sh
source "$BENCH_DIR/lib/report.sh"
# shellcheck source-path=SCRIPTDIR source=lib/setup.sh
source "$BENCH_DIR/lib/setup.sh"

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
  --targets "A B"     measure only these targets (e.g. "nginx gh-pass gh-sess-rl"), keep-alive throughput only:
                      for quick before/after checks while working on one path
  --connections "1 50"
                      with --targets: the connection counts to measure (default: 50 and 200; --quick: 50)
  --baseline PATH     with --targets: also run each Gatehouse target with the binary at PATH (an older build),
                      as "<target>-base", interleaved with the rest: before/after in one run, on the same noise
  -h, --help          this help

Results: bench/results/<date-time>/ (summary.md, raw.csv, idle.csv, large.csv, redis_probe.csv, logs);
bench/results/latest points at the newest.
EOF
}

# ---- options -----------------------------------------------------------------------------------------------------

MODE=full
WORKERS_LIST="1 2"
REPS=5             # many short rounds: the median then shrugs off a burst of other work on a shared machine
SECONDS_PER_RUN=2
IDLE_CONNECTIONS=10000
LARGE_MIB=256
LIGHT_PACE_MS=2    # light load: one connection, a request every ~2 ms plus its own latency
LIGHT_SECONDS=4
PIN=1
NGINX_ONLY=0
ONLY_TARGETS=
ONLY_CONNECTIONS=
GATEHOUSE_BIN=${GATEHOUSE_BIN:-}
BASELINE_BIN=
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
    --targets) ONLY_TARGETS=$2; shift ;;
    --baseline) BASELINE_BIN=$2; shift ;;
    --connections) ONLY_CONNECTIONS=$2; OVERRIDES+=(connections); shift ;;
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
  LIGHT_SECONDS=2
fi
overridden connections || { [[ $MODE == full ]] && ONLY_CONNECTIONS="50 200" || ONLY_CONNECTIONS=50; }

# ---- the run -----------------------------------------------------------------------------------------------------

main() {
  ensure_tools
  ensure_binaries
  raise_file_limit

  new_run_dir ""
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  choose_pinning
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

  if [[ $NGINX_ONLY == 1 ]]; then  # before anything starts
    ALL_TARGETS=(direct nginx nginx-limit)
    THROUGHPUT_TARGETS=("${ALL_TARGETS[@]}")
  fi
  local gatehouse_targets=()
  [[ $NGINX_ONLY == 0 ]] && gatehouse_targets=(gh-pass gh-rl gh-sess-rl gh-mem)
  if [[ -n $ONLY_TARGETS ]]; then
    local name
    for name in $ONLY_TARGETS; do
      [[ -n ${TARGET_TITLE[$name]:-} ]] || die "--targets: unknown target $name (known: ${ALL_TARGETS[*]})"
    done
    read -r -a ALL_TARGETS <<<"$ONLY_TARGETS"
    THROUGHPUT_TARGETS=("${ALL_TARGETS[@]}")
  fi
  if overridden connections; then
    [[ -n $ONLY_TARGETS ]] || die "--connections goes with --targets"
    local count
    for count in $ONLY_CONNECTIONS; do
      [[ $count =~ ^[1-9][0-9]*$ ]] || die "--connections: $count is not a positive number"
    done
  fi
  if [[ -n $BASELINE_BIN ]]; then
    [[ -n $ONLY_TARGETS ]] || die "--baseline goes with --targets (keep-alive throughput of chosen targets)"
    add_baseline_targets "$BASELINE_BIN"
  fi

  log "$MODE run: workers [$WORKERS_LIST], $REPS rep(s) x ${SECONDS_PER_RUN}s, results in $RUN_DIR"
  echo "$RAW_HEADER" >"$RUN_DIR/raw.csv"
  start_backends "$LARGE_MIB"

  local workers first=1
  for workers in $WORKERS_LIST; do
    start_proxies "$workers"
    warm_up "${ALL_TARGETS[@]}"
    if [[ -n $ONLY_TARGETS ]]; then
      local count
      for count in $ONLY_CONNECTIONS; do
        interleaved_rounds "c$count" "$workers" "$count" / "${THROUGHPUT_TARGETS[@]}"
      done
      stop_proxies
      continue
    fi
    local c50_targets=("${THROUGHPUT_TARGETS[@]}" "${C50_EXTRA_TARGETS[@]}")
    [[ $NGINX_ONLY == 1 ]] && c50_targets=("${THROUGHPUT_TARGETS[@]}")
    interleaved_rounds c50 "$workers" 50 / "${c50_targets[@]}"
    [[ $MODE == full ]] && interleaved_rounds c200 "$workers" 200 / "${THROUGHPUT_TARGETS[@]}"
    if ((first)); then
      # One connection lands on one worker, so c=1 latency and the per-request Redis traffic are measured once.
      interleaved_rounds c1 "$workers" 1 / "${ALL_TARGETS[@]}"
      [[ $NGINX_ONLY == 0 ]] && light_load "$workers" nginx gh-pass gh-sess-rl gh-sess-off
      local storm_targets=(nginx-limit)
      [[ $NGINX_ONLY == 0 ]] && storm_targets+=(gh-rl gh-mem)
      interleaved_rounds storm-c50 "$workers" 50 /storm "${storm_targets[@]}"
      [[ $NGINX_ONLY == 0 ]] && redis_probe "$workers" gh-rl gh-sess-rl gh-sess-user
      # Pass-through, and the session + rate-limit route, whose connections keep their filters between requests.
      local idle_targets=(nginx "${gatehouse_targets[@]:0:1}")
      [[ " ${gatehouse_targets[*]} " == *" gh-sess-rl "* ]] && idle_targets+=(gh-sess-rl)
      idle_connections "$workers" "${idle_targets[@]}"
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
