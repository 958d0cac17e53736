#!/usr/bin/env bash
# Shows who runs where, and for how long at a time, while one target is under load: records the scheduler
# (`perf sched record`, every CPU) for a second in the middle of a wrk run and prints, per program, its CPU time,
# how many times it ran, how long a run lasted, how long it waited between runs and on which CPU it ran, and
# how long each CPU was idle. Starts the upstream, Redis and the target as bench/run.sh does.
#
#   bench/schedule.sh [--target gh-sess-rl] [--workers 1] [--connections 50] [--no-pin]
#
# What it answers: whether a run is bound by CPU (no idle CPU) or by hand-offs between programs (a CPU idles
# while requests wait), and whether the proxy shares wrk's CPU, taking turns with it request by request.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source-path=SCRIPTDIR source=lib/one_target.sh
source "$BENCH_DIR/lib/one_target.sh"
RECORD_SECONDS=1

while (($# > 0)); do
  case $1 in
    --target) TARGET=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --gatehouse) GATEHOUSE_BIN=$2; shift ;;
    --no-pin) PIN=0 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
check_target_name

# "pid=role ..." for the processes the run started, so that the table can tell the upstream nginx from the
# proxy nginx.
process_roles() {
  local pid
  for pid in $(process_tree "$UPSTREAM_PID"); do printf '%s=upstream ' "$pid"; done
  for pid in $(target_pids "$TARGET"); do printf '%s=%s ' "$pid" "$TARGET"; done
  printf '%s=redis ' "$REDIS_PID"
}

main() {
  ensure_tools
  command -v perf >/dev/null || die "perf is missing (Debian: apt-get install linux-perf)"
  start_one_target schedule

  local url="http://127.0.0.1:${TARGET_PORT[$TARGET]}/" headers=()
  [[ -n ${TARGET_HEADERS[$TARGET]:-} ]] && headers=("${TARGET_HEADERS[$TARGET]}")
  run_wrk "$CONNECTIONS" "$WRK_THREADS" 2 "$url" "${headers[@]}" >/dev/null  # pools, scripts, caches warm

  # The recording starts after wrk has run for a second and ends a second before it stops.
  run_wrk "$CONNECTIONS" "$WRK_THREADS" $((RECORD_SECONDS + 2)) "$url" "${headers[@]}" >"$RUN_DIR/wrk.line" &
  local wrk_pid=$!
  STARTED_PIDS+=("$wrk_pid")
  sleep 1
  perf sched record -a -o "$RUN_DIR/sched.data" -- sleep "$RECORD_SECONDS" >"$RUN_DIR/perf-sched.log" 2>&1 ||
    die "perf sched record failed; see $RUN_DIR/perf-sched.log"
  wait "$wrk_pid" || die "wrk failed; see $RUN_DIR/wrk.log"

  perf sched timehist -i "$RUN_DIR/sched.data" >"$RUN_DIR/timehist.txt" 2>/dev/null ||
    die "perf sched timehist failed on $RUN_DIR/sched.data"
  {
    echo "# $TARGET, $WORKERS worker(s), c=$CONNECTIONS, $PINNING: $(cat "$RUN_DIR/wrk.line")"
    awk -v roles="$(process_roles)" -f "$BENCH_DIR/lib/schedule.awk" "$RUN_DIR/timehist.txt"
  } | tee "$RUN_DIR/schedule.txt"
  log "timeline: $RUN_DIR/timehist.txt (perf sched timehist -i $RUN_DIR/sched.data)"
}

main
