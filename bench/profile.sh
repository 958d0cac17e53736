#!/usr/bin/env bash
# Profiles one benchmark target under load: starts the upstream, Redis and that target exactly as bench/run.sh does,
# drives it with wrk and prints how busy the whole machine is (/proc/stat), samples it with `perf record -e
# cpu-clock` (a software event: it works where the hardware counters are not exposed, as in most VMs) and prints
# where its CPU time goes, by symbol; then counts the system calls one request costs (perf stat on the syscall
# tracepoints).
#
#   bench/profile.sh [--target gh-sess-rl] [--workers 1] [--seconds 10] [--connections 50] [--call-graph dwarf]
#
# --call-graph MODE records call chains too (perf's --call-graph: dwarf works without frame pointers); then
# `perf report -i <run>/perf.data --children` shows what each function costs with its callees.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source-path=SCRIPTDIR source=lib/one_target.sh
source "$BENCH_DIR/lib/one_target.sh"
PROFILE_SECONDS=10
CALL_GRAPH=

while (($# > 0)); do
  case $1 in
    --target) TARGET=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --seconds) PROFILE_SECONDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --gatehouse) GATEHOUSE_BIN=$2; shift ;;
    --call-graph) CALL_GRAPH=$2; shift ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
check_target_name

main() {
  ensure_tools
  command -v perf >/dev/null || die "perf is missing (Debian: apt-get install linux-perf)"
  perf record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1 ||
    die "perf cannot sample here (perf_event_paranoid?); try valgrind --tool=callgrind on a short run instead"
  start_one_target profile

  local pids headers=()
  mapfile -t pids < <(target_pids "$TARGET")
  [[ -n ${TARGET_HEADERS[$TARGET]:-} ]] && headers=("${TARGET_HEADERS[$TARGET]}")
  run_wrk "$CONNECTIONS" "$WRK_THREADS" 2 "http://127.0.0.1:${TARGET_PORT[$TARGET]}/" "${headers[@]}" >/dev/null

  CONNECTIONS=$CONNECTIONS machine_load  # first: before perf has touched the kernel's state
  log "profiling $TARGET (${pids[*]}) for ${PROFILE_SECONDS}s at c=$CONNECTIONS"
  local pid_list
  pid_list=$(IFS=,; echo "${pids[*]}")
  perf record -e cpu-clock -F 1999 ${CALL_GRAPH:+--call-graph "$CALL_GRAPH"} -p "$pid_list" -o "$RUN_DIR/perf.data" -- sleep "$((PROFILE_SECONDS + 1))" \
    >"$RUN_DIR/perf-record.log" 2>&1 &
  local perf_pid=$!
  STARTED_PIDS+=("$perf_pid")
  sleep 0.5
  local line
  line=$(run_wrk "$CONNECTIONS" "$WRK_THREADS" "$PROFILE_SECONDS" "http://127.0.0.1:${TARGET_PORT[$TARGET]}/" \
    "${headers[@]}")
  wait "$perf_pid" || die "perf record failed; see $RUN_DIR/perf-record.log"

  {
    echo "# $TARGET, $WORKERS worker(s), c=$CONNECTIONS, ${PROFILE_SECONDS}s: $line"
    echo "## by shared object"
    perf report -i "$RUN_DIR/perf.data" --stdio --no-children --sort dso --percent-limit 1 2>/dev/null | grep -v '^#' |
      grep -v '^$'
    echo "## by symbol (self time, >= 0.5%)"
    perf report -i "$RUN_DIR/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.5 2>/dev/null |
      grep -v '^#' | grep -v '^$'
  } >"$RUN_DIR/profile.txt"
  head -n 60 "$RUN_DIR/profile.txt"
  log "full profile: $RUN_DIR/profile.txt (perf report -i $RUN_DIR/perf.data)"
  count_syscalls "${pids[@]}"
}

# System calls per request under the same load, counted at full speed by perf's syscall tracepoints on the target's
# processes (3 s of wrk): how many reads, writes and epoll waits one request costs — which the CPU profile shows
# only as kernel time — and how many reads found nothing to read (EAGAIN: a speculative read before the data came).
count_syscalls() {
  local pid_list events=(raw_syscalls:sys_enter) name headers=()
  pid_list=$(IFS=,; echo "$*")
  for name in recvfrom read sendmsg sendto write writev epoll_wait epoll_ctl; do
    events+=("syscalls:sys_enter_$name")
  done
  [[ -n ${TARGET_HEADERS[$TARGET]:-} ]] && headers=("${TARGET_HEADERS[$TARGET]}")
  # The EAGAIN reads: exits of recvfrom/read with -11.
  perf stat -x, -o "$RUN_DIR/syscalls.csv" -p "$pid_list" $(printf -- '-e %s ' "${events[@]}") \
    -e syscalls:sys_exit_recvfrom --filter 'ret == -11' -e syscalls:sys_exit_read --filter 'ret == -11' \
    -- sleep 4 >"$RUN_DIR/perf-stat.log" 2>&1 &
  local perf_pid=$!
  STARTED_PIDS+=("$perf_pid")
  sleep 0.5
  local line
  line=$(run_wrk "$CONNECTIONS" "$WRK_THREADS" 3 "http://127.0.0.1:${TARGET_PORT[$TARGET]}/" "${headers[@]}")
  wait "$perf_pid" || die "perf stat failed; see $RUN_DIR/perf-stat.log"
  local requests
  requests=$(wrk_field "$line" requests)
  echo "## system calls per request ($requests requests, c=$CONNECTIONS; perf stat on syscall tracepoints)"
  # perf stat -x, rows: count,unit,event,...; the filtered exits are the reads that returned EAGAIN.
  awk -F, -v n="$requests" '$1 ~ /^[0-9]+$/ {
      name = $3; sub(/^(raw_)?syscalls:sys_enter_?/, "", name)
      if ($3 ~ /sys_exit_/) { name = $3; sub(/^syscalls:sys_exit_/, "", name); name = name " (EAGAIN)" }
      if (name == "") name = "all system calls"
      printf "%10.3f  %s\n", $1 / n, name }' "$RUN_DIR/syscalls.csv" | tee -a "$RUN_DIR/profile.txt"
}

# How busy the whole machine is under the same load, without perf attached (3 s of wrk): every process and the
# kernel's interrupts. Well below all cores while req/s stays flat means the run is bound by the hand-offs
# between processes (each a sleep and a wakeup), not by CPU.
machine_load() {
  local headers=() line before after
  [[ -n ${TARGET_HEADERS[$TARGET]:-} ]] && headers=("${TARGET_HEADERS[$TARGET]}")
  before=$(busy_ticks)
  line=$(run_wrk "$CONNECTIONS" "$WRK_THREADS" 3 "http://127.0.0.1:${TARGET_PORT[$TARGET]}/" "${headers[@]}")
  after=$(busy_ticks)
  read -r busy_before all_before <<<"$before"
  read -r busy_after all_after <<<"$after"
  awk -v busy=$((busy_after - busy_before)) -v all=$((all_after - all_before)) -v cores="$(nproc)" \
    -v requests="$(wrk_field "$line" requests)" -v duration_us="$(wrk_field "$line" duration_us)" \
    'BEGIN { if (all > 0) printf "## the machine: %.2f of %d cores busy at %.0f req/s (3 s, c=%s, no profiler)\n",
               cores * busy / all, cores, (duration_us > 0 ? requests * 1e6 / duration_us : 0), ENVIRON["CONNECTIONS"] }' | tee -a "$RUN_DIR/profile.txt"
}

# busy_ticks: "<busy> <total>" jiffies of all CPUs from /proc/stat (busy = user + nice + system + irq + softirq +
# steal; total adds idle and iowait).
busy_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}

main
