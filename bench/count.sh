#!/usr/bin/env bash
# Counts what one request costs Gatehouse in user space, exactly: the instructions it executes and the heap
# allocations it makes (calls to malloc, calloc, realloc), under valgrind's callgrind. Starts the upstream, Redis
# and one target as bench/run.sh does, warms it up, then counts over a run of wrk. Unlike timings, these counts do
# not move with the machine's load, so they show the effect of a change on the hot path even when the machine is
# too noisy (or too busy) to time it; they do not show kernel time (bench/profile.sh does).
#
#   bench/count.sh [--target gh-sess-rl] [--seconds 8] [--connections 50]
#
# Instructions per request also include the event loop's own work, which depends a little on how many events
# each wakeup brings (callgrind slows the proxy ~50x); compare runs of the same target and connection count.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source-path=SCRIPTDIR source=lib/one_target.sh
source "$BENCH_DIR/lib/one_target.sh"
COUNT_SECONDS=8

while (($# > 0)); do
  case $1 in
    --target) TARGET=$2; shift ;;
    --seconds) COUNT_SECONDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --gatehouse) GATEHOUSE_BIN=$2; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $TARGET == gh-* && -n ${TARGET_TITLE[$TARGET]:-} ]] || die "--target must be a Gatehouse target (gh-...)"

main() {
  ensure_tools
  if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
    die "valgrind is missing (Debian: apt-get install valgrind)"
  fi
  prepare_one_target_run count
  GATEHOUSE_PREFIX=(valgrind --tool=callgrind "--callgrind-out-file=$RUN_DIR/callgrind.out")
  start_one_target_servers

  local pid=${TARGET_PID[$TARGET]} url="http://127.0.0.1:${TARGET_PORT[$TARGET]}/" headers=()
  [[ -n ${TARGET_HEADERS[$TARGET]:-} ]] && headers=("${TARGET_HEADERS[$TARGET]}")
  run_wrk "$CONNECTIONS" "$WRK_THREADS" 2 "$url" "${headers[@]}" >/dev/null  # pools, scripts, caches warm
  callgrind_control --zero "$pid" >/dev/null 2>&1
  local line requests
  line=$(run_wrk "$CONNECTIONS" "$WRK_THREADS" "$COUNT_SECONDS" "$url" "${headers[@]}")
  callgrind_control --dump "$pid" >/dev/null 2>&1
  requests=$(wrk_field "$line" requests)
  ((requests > 0)) || die "no request completed under callgrind; see $RUN_DIR/$TARGET.log"

  local dumps=("$RUN_DIR"/callgrind.out.*)
  local dump=${dumps[0]}
  [[ -f $dump ]] || die "callgrind wrote no dump in $RUN_DIR"
  local instructions allocations
  read -r instructions allocations < <(awk -f "$BENCH_DIR/lib/callgrind_counts.awk" "$dump")
  {
    echo "# $TARGET, c=$CONNECTIONS, ${COUNT_SECONDS}s under callgrind: $requests requests"
    awk -v i="$instructions" -v a="$allocations" -v n="$requests" \
      'BEGIN { printf "instructions per request: %.0f\nheap allocations per request: %.2f\n", i / n, a / n }'
  } | tee "$RUN_DIR/counts.txt"
  log "callgrind dump: $dump (callgrind_annotate --threshold=100 --auto=no $dump: every function, self cost; --inclusive=yes adds callees; --tree=caller shows who allocates)"
}

main
