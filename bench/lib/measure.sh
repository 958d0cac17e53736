# shellcheck shell=bash
# What one measurement reads: CPU time and memory of a set of processes from /proc, Redis's own counters from INFO,
# and wrk's result line (bench/wrk/report.lua). Sourced by bench/run.sh.

CLOCK_TICKS_PER_SECOND=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime of the processes, in clock ticks (all threads of each process included).
cpu_ticks() {
  local pid total=0 stat rest
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    rest=${stat##*) }  # the command name may contain spaces: fields are counted after its closing parenthesis
    read -r -a fields <<<"$rest"
    # After the name: field 3 is state, so utime (field 14) and stime (field 15) are at indexes 11 and 12.
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# cpu_ns PID...: time on a CPU of every thread of the processes, in nanoseconds (/proc/<pid>/task/*/schedstat):
# finer than cpu_ticks, for runs that use little CPU.
cpu_ns() {
  local pid task total=0 on_cpu _rest
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*/schedstat; do
      read -r on_cpu _rest <"$task" 2>/dev/null || continue
      total=$((total + on_cpu))
    done
  done
  echo "$total"
}

# status_kb FIELD PID...: the sum of a /proc/<pid>/status field (VmRSS, VmHWM) over the processes, in KiB.
status_kb() {
  local field=$1 pid total=0 value
  shift
  for pid in "$@"; do
    value=$(awk -v field="$field:" '$1 == field { print $2 }' "/proc/$pid/status" 2>/dev/null)
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

# Resets the peak RSS (VmHWM) of the processes to their current RSS (Linux: "5" > /proc/<pid>/clear_refs), so that
# the peak read after a run is the peak of that run. Needs to own the processes (we started them).
reset_peak_rss() {
  local pid
  for pid in "$@"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done
}

# redis_counters: "<calls> <cpu_us> <reads>" — commands executed (INFO commandstats, without our own INFO calls;
# commands that scripts run count too, as Redis counts them), CPU time used (INFO cpu, user + system) and read
# events processed (INFO stats; one per batch of commands read from a connection: round trips, with pipelining).
redis_counters() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" INFO all | tr -d '\r' | awk -F'[:,=]' '
    /^cmdstat_/ && $1 != "cmdstat_info" { for (i = 2; i < NF; i++) if ($i == "calls") calls += $(i + 1) }
    $1 == "used_cpu_sys" || $1 == "used_cpu_user" { cpu += $2 }
    $1 == "total_reads_processed" { reads = $2 }
    END { printf "%d %d %d\n", calls, cpu * 1000000, reads }'
}

# run_wrk CONNECTIONS THREADS SECONDS URL [HEADER...]: runs wrk (pinned to $WRK_CPUS when set) and prints the
# "WRK key=value ..." line of bench/wrk/report.lua. wrk's own output goes to $RUN_DIR/wrk.log.
run_wrk() {
  local connections=$1 threads=$2 seconds=$3 url=$4
  shift 4
  local args=(-t "$threads" -c "$connections" -d "${seconds}s" --timeout 5s -s "$BENCH_DIR/wrk/report.lua")
  local header
  for header in "$@"; do args+=(-H "$header"); done
  local pin=()
  [[ -n $WRK_CPUS ]] && pin=(taskset -c "$WRK_CPUS")
  local output
  output=$("${pin[@]}" wrk "${args[@]}" "$url" 2>&1)
  printf '%s\n' "--- wrk ${args[*]} $url" "$output" >>"$RUN_DIR/wrk.log"
  local line
  line=$(grep '^WRK ' <<<"$output") || die "wrk printed no result for $url (see $RUN_DIR/wrk.log)"
  echo "$line"
}

# wrk_field LINE KEY: a value from the WRK line.
wrk_field() {
  local word
  for word in $1; do
    [[ $word == "$2="* ]] && {
      echo "${word#*=}"
      return
    }
  done
  echo 0
}
