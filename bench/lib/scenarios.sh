# shellcheck shell=bash
# The scenarios: interleaved wrk rounds (throughput, latency, 429 storm), idle keep-alive connections, a large
# streamed body, and a Redis probe that counts what one request sends to Redis. Each appends rows to a CSV file in
# RUN_DIR. Sourced by bench/run.sh.

RAW_HEADER="scenario,workers,target,rep,connections,threads,seconds,requests,rps,p50_us,p99_us,non2xx,socket_errors,\
proxy_cpu_us_per_req,redis_cpu_us_per_req,redis_calls_per_req,redis_reads_per_req,peak_rss_kb"

# measure_once SCENARIO WORKERS TARGET REP CONNECTIONS PATH: one wrk run against one target, with the proxy's CPU
# and peak RSS and Redis's counters read around it; appends one row to raw.csv.
measure_once() {
  local scenario=$1 workers=$2 target=$3 rep=$4 connections=$5 path=$6
  local threads=$WRK_THREADS
  ((connections < threads)) && threads=$connections
  local pids
  mapfile -t pids < <(target_pids "$target")
  local headers=()
  [[ -n ${TARGET_HEADERS[$target]:-} ]] && headers=("${TARGET_HEADERS[$target]}")

  reset_peak_rss "${pids[@]}"
  local ticks_before redis_before
  ticks_before=$(cpu_ticks "${pids[@]}")
  redis_before=$(redis_counters)

  local line
  line=$(run_wrk "$connections" "$threads" "$SECONDS_PER_RUN" "http://127.0.0.1:${TARGET_PORT[$target]}$path" \
    "${headers[@]}")

  local ticks_after redis_after peak_kb=""
  ticks_after=$(cpu_ticks "${pids[@]}")
  redis_after=$(redis_counters)
  ((${#pids[@]} > 0)) && peak_kb=$(status_kb VmHWM "${pids[@]}")

  local requests duration_us
  requests=$(wrk_field "$line" requests)
  duration_us=$(wrk_field "$line" duration_us)
  ((requests > 0)) || die "$target ($scenario) completed no request; see $RUN_DIR/wrk.log"
  local socket_errors=$(($(wrk_field "$line" connect) + $(wrk_field "$line" read) + $(wrk_field "$line" write) + \
    $(wrk_field "$line" timeout)))

  local -a rb ra
  read -r -a rb <<<"$redis_before"
  read -r -a ra <<<"$redis_after"
  # Our own INFO call adds one read event to the "after" counters: it is taken off.
  awk -v scenario="$scenario" -v workers="$workers" -v target="$target" -v rep="$rep" -v c="$connections" \
    -v t="$threads" -v s="$SECONDS_PER_RUN" -v n="$requests" -v dur="$duration_us" \
    -v p50="$(wrk_field "$line" p50_us)" -v p99="$(wrk_field "$line" p99_us)" -v non2xx="$(wrk_field "$line" non2xx)" \
    -v errors="$socket_errors" -v has_proxy="${#pids[@]}" -v ticks=$((ticks_after - ticks_before)) \
    -v hz="$CLOCK_TICKS_PER_SECOND" -v calls=$((ra[0] - rb[0])) -v rcpu=$((ra[1] - rb[1])) \
    -v reads=$((ra[2] - rb[2] - 1)) -v peak="$peak_kb" 'BEGIN {
      proxy_cpu = has_proxy > 0 ? sprintf("%.1f", ticks * 1e6 / hz / n) : ""
      printf "%s,%s,%s,%s,%s,%s,%s,%d,%.0f,%d,%d,%d,%d,%s,%.2f,%.3f,%.3f,%s\n", scenario, workers, target, rep, c, t, s,
        n, n / (dur / 1e6), p50, p99, non2xx, errors, proxy_cpu, rcpu / n, calls / n, reads / n, peak
    }' >>"$RUN_DIR/raw.csv"
  log "  $scenario w=$workers $target #$rep: $(tail -n 1 "$RUN_DIR/raw.csv" | cut -d, -f9-13 | tr , ' ')"
}

# interleaved_rounds SCENARIO WORKERS CONNECTIONS PATH TARGET...: REPS rounds of A B C ... (rotated), so that a
# slow phase of the machine (another job, a frequency change) hits every target alike instead of one of them.
interleaved_rounds() {
  local scenario=$1 workers=$2 connections=$3 path=$4
  shift 4
  local targets=("$@") rep i
  log "$scenario, $workers worker(s): $REPS round(s) of $* ($SECONDS_PER_RUN s each)"
  # Each round starts one target further on (A B C, B C A, C A B, ...): no target always runs right after the
  # same one (the direct upstream loads both cores hardest) or always first.
  for ((rep = 1; rep <= REPS; rep++)); do
    for ((i = 0; i < ${#targets[@]}; i++)); do
      measure_once "$scenario" "$workers" "${targets[(rep - 1 + i) % ${#targets[@]}]}" "$rep" "$connections" "$path"
    done
  done
}

# A short untimed run per target: connection pools filled, Redis scripts loaded, caches warm.
warm_up() {
  local target headers
  for target in "$@"; do
    headers=()
    [[ -n ${TARGET_HEADERS[$target]:-} ]] && headers=(-H "${TARGET_HEADERS[$target]}")
    wrk -t 1 -c 50 -d 1s "${headers[@]}" "http://127.0.0.1:${TARGET_PORT[$target]}/" >/dev/null 2>&1 ||
      die "warm-up of $target failed"
  done
}

# light_load WORKERS TARGET...: one connection that waits LIGHT_PACE_MS between a response and its next request, for
# LIGHT_SECONDS per target: what a request costs the proxy when it is not busy (where busy polling could burn
# CPU for nothing). Records the requests, their median and 99th-percentile latency (without the pauses) and the
# proxy's CPU time per request.
light_load() {
  local workers=$1 target
  shift
  for target in "$@"; do
    local pids headers=() before after line
    mapfile -t pids < <(target_pids "$target")
    [[ -n ${TARGET_HEADERS[$target]:-} ]] && headers=("${TARGET_HEADERS[$target]}")
    sleep 0.5  # the previous target's connections are closed and the machine quiet
    before=$(cpu_ns "${pids[@]}")
    line=$(WRK_PACE_MS=$LIGHT_PACE_MS run_wrk 1 1 "$LIGHT_SECONDS" "http://127.0.0.1:${TARGET_PORT[$target]}/" "${headers[@]}")
    after=$(cpu_ns "${pids[@]}")
    local requests
    requests=$(wrk_field "$line" requests)
    ((requests > 0)) || die "no request went through $target at light load ($line)"
    echo "$workers,$target,$requests,$(wrk_field "$line" p50_us),$(wrk_field "$line" p99_us),$(((after - before) / 1000))" |
      awk -F, '{ printf "%s,%s,%d,%d,%d,%.1f\n", $1, $2, $3, $4, $5, $6 / $3 }' >>"$RUN_DIR/light.csv"
    log "  light w=$workers $target: $(tail -n 1 "$RUN_DIR/light.csv")"
  done
}

# idle_connections WORKERS TARGET...: opens IDLE_CONNECTIONS keep-alive connections (one request each) to each
# target in turn and records the RSS they add, per connection.
idle_connections() {
  local workers=$1 target
  shift
  for target in "$@"; do
    local pids
    mapfile -t pids < <(target_pids "$target")
    local before after line
    before=$(status_kb VmRSS "${pids[@]}")
    coproc IDLE_HELPER { "$IDLE_HELPER_BIN" --port "${TARGET_PORT[$target]}" --count "$IDLE_CONNECTIONS" \
      --setup-timeout 60 --hold 120 2>>"$RUN_DIR/idle-helper.log"; }
    local helper_pid=$IDLE_HELPER_PID
    STARTED_PIDS+=("$helper_pid")
    PID_NAMES[helper_pid]="idle-connection helper"
    if ! read -r -t 90 line <&"${IDLE_HELPER[0]}"; then
      die "the idle-connection helper did not report within 90s (see $RUN_DIR/idle-helper.log)"
    fi
    sleep 1  # let the server finish the accepted connections' bookkeeping before reading its RSS
    after=$(status_kb VmRSS "${pids[@]}")
    local opened=${line#*opened=}
    opened=${opened%% *}
    local failed=${line##*failed=}
    stop_processes "$helper_pid"
    ((opened > 0)) || die "no idle connection to $target could be opened ($line)"
    echo "$workers,$target,$opened,$failed,$before,$after" |
      awk -F, '{ printf "%s,%s,%d,%d,%d,%d,%.0f\n", $1, $2, $3, $4, $5, $6, ($6 - $5) * 1024 / $3 }' \
        >>"$RUN_DIR/idle.csv"
    log "  idle w=$workers $target: $(tail -n 1 "$RUN_DIR/idle.csv")"
    sleep 1  # the server closes the connections; the next target starts from a quiet machine
  done
}

# large_body WORKERS TARGET...: downloads LARGE_MIB MiB through each target while sampling the proxy's RSS every
# 50 ms; records throughput and how far RSS rose above its level before the transfer.
large_body() {
  local workers=$1 target
  shift
  for target in "$@"; do
    local pids
    mapfile -t pids < <(target_pids "$target")
    local before peak=0 sample
    before=$(status_kb VmRSS "${pids[@]}")
    peak=$before
    curl -s -o /dev/null --max-time 60 -w '%{http_code} %{size_download} %{time_total}\n' \
      "http://127.0.0.1:${TARGET_PORT[$target]}/large" >"$RUN_DIR/large-$target.out" &
    local curl_pid=$!
    STARTED_PIDS+=("$curl_pid")
    PID_NAMES[curl_pid]="curl (large body)"
    while kill -0 "$curl_pid" 2>/dev/null; do
      if ((${#pids[@]} > 0)); then
        sample=$(status_kb VmRSS "${pids[@]}")
        ((sample > peak)) && peak=$sample
      fi
      sleep 0.05
    done
    wait "$curl_pid" || die "the large download through $target failed"
    stop_processes "$curl_pid"
    local status bytes seconds
    read -r status bytes seconds <"$RUN_DIR/large-$target.out"
    [[ $status == 200 ]] || die "the large download through $target answered $status"
    ((bytes == LARGE_MIB * 1024 * 1024)) || die "the large download through $target delivered $bytes bytes"
    echo "$workers,$target,$bytes,$seconds,$before,$peak" |
      awk -F, -v has_proxy="${#pids[@]}" '{
        if (has_proxy > 0) printf "%s,%s,%d,%.3f,%.0f,%d,%d,%d\n", $1, $2, $3, $4, $3 / $4 / 1048576, $5, $6, $6 - $5
        else printf "%s,%s,%d,%.3f,%.0f,,,\n", $1, $2, $3, $4, $3 / $4 / 1048576
      }' >>"$RUN_DIR/large.csv"
    log "  large body w=$workers $target: $(tail -n 1 "$RUN_DIR/large.csv")"
  done
}

# redis_probe WORKERS TARGET...: one second at c=1 with Redis MONITOR on, counting the commands the proxy itself
# sends per request (MONITOR marks the commands a script runs as "[n lua]": they are not counted). Kept out of the
# timed runs, because MONITOR slows Redis down.
redis_probe() {
  local workers=$1 target
  shift
  for target in "$@"; do
    local monitor_out="$RUN_DIR/monitor-$target.txt"
    redis-cli -p "$REDIS_PORT" MONITOR >"$monitor_out" 2>&1 &
    local monitor_pid=$!
    STARTED_PIDS+=("$monitor_pid")
    PID_NAMES[monitor_pid]="redis-cli MONITOR"
    sleep 0.3
    local headers=() line
    [[ -n ${TARGET_HEADERS[$target]:-} ]] && headers=("${TARGET_HEADERS[$target]}")
    line=$(WRK_CPUS="" run_wrk 1 1 1 "http://127.0.0.1:${TARGET_PORT[$target]}/" "${headers[@]}")
    sleep 0.3
    stop_processes "$monitor_pid"
    local requests
    requests=$(wrk_field "$line" requests)
    # A client command: '<time> [<db> <ip>:<port>] "COMMAND" ...'; one run by a script: '<time> [<db> lua] ...'.
    awk -v workers="$workers" -v target="$target" -v n="$requests" '
      $2 ~ /^\[[0-9]+$/ && $3 ~ /:[0-9]+\]$/ { name = toupper($4); gsub(/"/, "", name); count[name]++; total++ }
      END {
        mix = ""
        for (name in count) mix = mix (mix == "" ? "" : " ") sprintf("%s=%.2f", name, count[name] / n)
        printf "%s,%s,%d,%d,%.3f,%s\n", workers, target, n, total, total / n, mix
      }' "$monitor_out" >>"$RUN_DIR/redis_probe.csv"
    log "  redis probe w=$workers $target: $(tail -n 1 "$RUN_DIR/redis_probe.csv")"
  done
}
