# shellcheck shell=bash
# Writes summary.md from the CSV files of a run: the machine, the tables, and the issue's targets, each marked met or
# missed from the measured numbers. Sourced by bench/run.sh.

machine_description() {
  local model
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  printf '%s; nproc %s; %s; %s; load average before the run: %s' "${model:-unknown CPU}" "$(nproc)" \
    "$(uname -sr)" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$LOAD_BEFORE"
}

write_summary() {
  local titles="$RUN_DIR/titles.tsv" name
  : >"$titles"
  for name in "${ALL_TARGETS[@]}"; do printf '%s\t%s\n' "$name" "${TARGET_TITLE[$name]}" >>"$titles"; done

  echo "### Gatehouse vs nginx — $MODE run"
  echo
  echo "Machine: $(machine_description)."
  local gatehouse="not run"
  [[ -n $GATEHOUSE_BIN ]] && gatehouse="$("$GATEHOUSE_BIN" --version | cut -d' ' -f2) ($GATEHOUSE_BUILD_TYPE build, ${GATEHOUSE_BIN#"$REPO_DIR"/} built $(date -r "$GATEHOUSE_BIN" '+%Y-%m-%d %H:%M'), tree at $TREE_AT_START when the run started${GATEHOUSE_STALE:+; $GATEHOUSE_STALE})"
  echo "Tools: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), redis $(redis-server --version | cut -d' ' -f3 | cut -d= -f2), Gatehouse $gatehouse."
  echo "Pinning: $PINNING. $SECONDS_PER_RUN s per run, $REPS repetition(s), upstream nginx with $UPSTREAM_WORKERS worker(s)."
  echo "Raw numbers: \`$RUN_DIR/raw.csv\`."
  echo
  echo "Every request is \`GET /\` (a 54-byte JSON answer from the upstream) on a keep-alive connection. The limits on"
  echo "\`/\` never trigger (nginx limit_req and Gatehouse rate_limit alike); the 429 storm sends \`GET /storm\`, where both"
  echo "allow 100 requests a minute per client. \"Redis calls\" counts every command Redis executes, including those a"
  echo "Lua script runs; \"Redis reads\" counts the read events Redis processed (round trips, after pipelining)."

  : >"$RUN_DIR/medians.csv"
  awk -F, -v order="${ALL_TARGETS[*]}" -v titles_file="$titles" -v medians="$RUN_DIR/medians.csv" \
    -f "$BENCH_DIR/lib/summarize.awk" "$RUN_DIR/raw.csv"

  if [[ -s $RUN_DIR/light.csv ]]; then
    echo
    echo "#### Light load: one connection, ${LIGHT_PACE_MS} ms between a response and the next request"
    echo
    echo "| target | workers | requests | p50 ms | p99 ms | proxy CPU µs/req |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F, -v titles_file="$titles" 'BEGIN { while ((getline l < titles_file) > 0) { split(l, kv, "\t"); t[kv[1]] = kv[2] } }
      { printf "| %s | %s | %d | %.3f | %.3f | %.1f |\n", t[$2], $1, $3, $4 / 1000, $5 / 1000, $6 }' "$RUN_DIR/light.csv"
  fi

  if [[ -s $RUN_DIR/idle.csv ]]; then
    echo
    echo "#### Idle keep-alive connections (one request each, then idle)"
    echo
    echo "| target | workers | opened | failed | RSS before MiB | RSS after MiB | bytes per connection |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    awk -F, -v titles_file="$titles" 'BEGIN { while ((getline l < titles_file) > 0) { split(l, kv, "\t"); t[kv[1]] = kv[2] } }
      { printf "| %s | %s | %d | %d | %.1f | %.1f | %d (%.2f KiB) |\n", t[$2], $1, $3, $4, $5 / 1024, $6 / 1024, $7, $7 / 1024 }' \
      "$RUN_DIR/idle.csv"
  fi

  if [[ -s $RUN_DIR/large.csv ]]; then
    echo
    echo "#### A ${LARGE_MIB} MiB response streamed through (one download)"
    echo
    echo "| target | workers | MiB/s | RSS before MiB | peak RSS during MiB | rise MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F, -v titles_file="$titles" 'BEGIN { while ((getline l < titles_file) > 0) { split(l, kv, "\t"); t[kv[1]] = kv[2] } }
      { if ($6 == "") printf "| %s | %s | %d | – | – | – |\n", t[$2], $1, $5
        else printf "| %s | %s | %d | %.1f | %.1f | %.1f |\n", t[$2], $1, $5, $6 / 1024, $7 / 1024, $8 / 1024 }' \
      "$RUN_DIR/large.csv"
  fi

  if [[ -s $RUN_DIR/redis_probe.csv ]]; then
    echo
    echo "#### What one request sends to Redis (MONITOR, c=1, client commands only)"
    echo
    echo "| target | workers | requests | commands/request | per command |"
    echo "|---|---:|---:|---:|---|"
    awk -F, -v titles_file="$titles" 'BEGIN { while ((getline l < titles_file) > 0) { split(l, kv, "\t"); t[kv[1]] = kv[2] } }
      { printf "| %s | %s | %d | %.2f | %s |\n", t[$2], $1, $3, $5, $6 }' "$RUN_DIR/redis_probe.csv"
  fi

  echo
  write_targets
}

# The issue's targets, from medians.csv (scenario,workers,target,rps,p99_us,calls,reads,cpu), idle.csv and the probe.
write_targets() {
  echo "#### The issue's targets"
  echo
  echo "req/s and p99 move with whatever else the machine runs; CPU per request, measured from the proxy's own"
  echo "counters, moves much less, so it is printed beside each pass-through verdict."
  echo
  awk -F, '
    # The ratio to nginx within each interleaved round (same moment of the machine), lowest and highest: how
    # far one round strays from the median the verdict uses.
    function roundRange(scenario, workers, target,   key, parts, ratio, low, high, n) {
      n = 0
      for (key in rounds) {
        split(key, parts, SUBSEP)
        if (parts[1] != scenario || parts[2] != workers) continue
        if (round_rps[scenario, workers, "nginx", parts[3]] + 0 <= 0 || round_rps[scenario, workers, target, parts[3]] == "") continue
        ratio = round_rps[scenario, workers, target, parts[3]] / round_rps[scenario, workers, "nginx", parts[3]]
        if (n == 0 || ratio < low) low = ratio
        if (n == 0 || ratio > high) high = ratio
        n++
      }
      return n > 1 ? sprintf("rounds %.2f–%.2f×", low, high) : "one round"
    }
    # Printed cut, not rounded, to three decimals: 0.6996 shows as 0.699, never as a 0.700 that then "missed".
    function truncated(ratio) { return int(ratio * 1000) / 1000 }
    FILENAME ~ /medians/ {
      rps[$1, $2, $3] = $4; p99[$1, $2, $3] = $5; reads[$1, $2, $3] = $7; cpu[$1, $2, $3] = $8; groups[$1 SUBSEP $2] = 1
    }
    FILENAME ~ /idle/ && $2 ~ /^gh-/ && (idle == "" || $7 > idle) { idle = $7; idle_target = $2 }
    FILENAME ~ /raw/ && FNR > 1 { round_rps[$1, $2, $3, $4] = $9; rounds[$1, $2, $4] = 1 }
    END {
      for (g in groups) {
        split(g, p, SUBSEP)
        if (p[1] !~ /^c[0-9]+$/) continue
        if (rps[g, "nginx"] == "" || rps[g, "gh-pass"] == "") continue
        r = rps[g, "gh-pass"] / rps[g, "nginx"]; q = p99[g, "gh-pass"] / p99[g, "nginx"]
        c = cpu[g, "nginx"] > 0 ? cpu[g, "gh-pass"] / cpu[g, "nginx"] : 0
        printf "- %s, %s worker(s): pass-through %.3f× nginx req/s (target ≥ 1.10×; %s), p99 %.2f× (target ≤ 1.00×): **%s** (CPU per request %.2f× nginx'"'"'s)\n",
          p[1], p[2], truncated(r), roundRange(p[1], p[2], "gh-pass"), q, ((r >= 1.1 && q <= 1.0) ? "met" : "missed"), c
        if (rps[g, "gh-sess-rl"] != "") {
          s = rps[g, "gh-sess-rl"] / rps[g, "nginx"]
          printf "- %s, %s worker(s): session + rate limit (Redis) %.3f× nginx pass-through req/s (target ≥ 0.70×; %s): **%s**\n",
            p[1], p[2], truncated(s), roundRange(p[1], p[2], "gh-sess-rl"), (s >= 0.7 ? "met" : "missed")
        }
        if (rps[g, "gh-sess-off"] != "") {
          s = rps[g, "gh-sess-off"] / rps[g, "nginx"]
          printf "- %s, %s worker(s): the same with busy_poll off %.3f× nginx pass-through req/s (%s): %s, at %.1f µs of Gatehouse CPU per request against %.1f with the default (auto)\n",
            p[1], p[2], truncated(s), roundRange(p[1], p[2], "gh-sess-off"), (s >= 0.7 ? "≥ 0.70×" : "< 0.70×"),
            cpu[g, "gh-sess-off"], cpu[g, "gh-sess-rl"]
        }
        if (p[1] == "c1" && reads[g, "gh-sess-rl"] != "")
          printf "- c1, %s worker(s): session + rate limit by IP: %.2f Redis round trips per request (target 1): **%s**\n",
            p[2], reads[g, "gh-sess-rl"], (reads[g, "gh-sess-rl"] <= 1.05 ? "met" : "missed")
        if (p[1] == "c1" && reads[g, "gh-sess-user"] != "")
          printf "- c1, %s worker(s): session + rate limit by session.user: %.2f Redis round trips per request (target 1): **%s**\n",
            p[2], reads[g, "gh-sess-user"], (reads[g, "gh-sess-user"] <= 1.05 ? "met" : "missed")
      }
      if (idle != "")
        printf "- idle keep-alive connection: %.2f KiB of RSS each through Gatehouse (the most of its targets, %s; target ≤ 8 KiB): **%s**\n",
          idle / 1024, idle_target, (idle <= 8192 ? "met" : "missed")
    }' "$RUN_DIR/medians.csv" "$( [[ -s $RUN_DIR/idle.csv ]] && echo "$RUN_DIR/idle.csv" || echo /dev/null)" \
    "$RUN_DIR/raw.csv" | sort
}
