# Turns raw.csv (one row per wrk run) into Markdown tables: one per scenario and worker count, one row per target,
# medians over the repetitions, non-2xx and socket errors summed. Ratios are to the nginx proxy_pass target of the
# same scenario and worker count (nginx limit_req for the 429 storm). Also prints the CSV of the medians (for the issue targets) when -v medians=FILE.
#
# Usage: awk -F, -v order="direct nginx ..." -v titles_file=FILE -f summarize.awk raw.csv
# (mawk-compatible: no asort, no gensub.)

function median(list,    n, values, i, j, v) {
  n = split(list, values, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) {  # insertion sort: a handful of repetitions
    v = values[i] + 0
    for (j = i - 1; j >= 1 && values[j] + 0 > v; j--) values[j + 1] = values[j]
    values[j + 1] = v
  }
  if (n % 2) return values[(n + 1) / 2] + 0
  return (values[n / 2] + values[n / 2 + 1]) / 2
}

function add(key, column, value) {
  if (value == "") return
  samples[key, column] = samples[key, column] (samples[key, column] == "" ? "" : " ") value
}

function fmt(value, format) { return value == "" ? "–" : sprintf(format, value) }

BEGIN {
  count = split(order, target_order, " ")
  while ((getline line < titles_file) > 0) {
    split(line, kv, "\t")
    title[kv[1]] = kv[2]
  }
}

NR == 1 { next }  # header

{
  scenario = $1; workers = $2; target = $3
  group = scenario SUBSEP workers
  if (!(group in seen_group)) { seen_group[group] = 1; groups[++group_count] = group }
  key = group SUBSEP target
  present[key] = 1
  conns[group] = $5
  add(key, "rps", $9); add(key, "p50", $10); add(key, "p99", $11)
  non2xx[key] += $12; errors[key] += $13
  add(key, "cpu", $14); add(key, "rcpu", $15); add(key, "calls", $16); add(key, "reads", $17); add(key, "rss", $18)
  reps[key]++
}

END {
  for (g = 1; g <= group_count; g++) {
    group = groups[g]
    split(group, parts, SUBSEP)
    printf "\n#### %s — %s worker(s), %d connection(s)\n\n", parts[1], parts[2], conns[group]
    print "| target | req/s | p50 ms | p99 ms | non-2xx / socket errors | proxy CPU µs/req | Redis CPU µs/req | Redis calls/req | Redis reads/req | peak RSS MiB | req/s ÷ nginx | p99 ÷ nginx |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    # The 429 storm has no plain nginx row: its reference is nginx's limit_req, rejecting the same way.
    reference = group SUBSEP "nginx"
    if (!(reference in present)) reference = group SUBSEP "nginx-limit"
    ref_rps = median(samples[reference, "rps"])
    ref_p99 = median(samples[reference, "p99"])
    for (i = 1; i <= count; i++) {
      key = group SUBSEP target_order[i]
      if (!(key in present)) continue
      rps = median(samples[key, "rps"]); p99 = median(samples[key, "p99"])
      rss = median(samples[key, "rss"])
      printf "| %s | %s | %s | %s | %d / %d | %s | %s | %s | %s | %s | %s | %s |\n",
        title[target_order[i]], fmt(rps, "%.0f"), fmt(median(samples[key, "p50"]) / 1000, "%.2f"),
        fmt(p99 / 1000, "%.2f"), non2xx[key], errors[key], fmt(median(samples[key, "cpu"]), "%.1f"),
        fmt(median(samples[key, "rcpu"]), "%.2f"), fmt(median(samples[key, "calls"]), "%.2f"),
        fmt(median(samples[key, "reads"]), "%.2f"), (rss == "" ? "–" : sprintf("%.1f", rss / 1024)),
        (ref_rps > 0 ? sprintf("%.2f×", rps / ref_rps) : "–"), (ref_p99 > 0 ? sprintf("%.2f×", p99 / ref_p99) : "–")
      if (medians != "")
        printf "%s,%s,%s,%.0f,%d,%s,%s,%s\n", parts[1], parts[2], target_order[i], rps, p99,
          median(samples[key, "calls"]), median(samples[key, "reads"]), median(samples[key, "cpu"]) > medians
    }
    printf "\n_%d repetition(s) per target, interleaved; medians (non-2xx and errors: sums); ratios to %s._\n",
      reps[reference], title[substr(reference, length(group) + 2)]
  }
}
