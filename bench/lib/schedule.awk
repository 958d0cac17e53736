# Summarises `perf sched timehist` (bench/schedule.sh): one line per stretch a task ran on a CPU, as
#   time [cpu] task[tid/pid] wait_ms sch_delay_ms run_ms
# Tasks are grouped by process, named by their role in the run when the caller gives it (-v roles="pid=role
# ..."), else by program; <idle> is each CPU's idle time.
BEGIN {
  n_roles = split(roles, pairs, " ")
  for (i = 1; i <= n_roles; i++) {
    split(pairs[i], kv, "=")
    role[kv[1]] = kv[2]
  }
}
$2 ~ /^\[[0-9]+\]$/ && NF >= 6 {
  cpu = substr($2, 2, length($2) - 2) + 0
  cpus[cpu] = 1
  if (first == "") first = $1 - $6 / 1000
  last = $1
  name = $3
  pid = $3
  sub(/\[.*$/, "", name)
  sub(/^[^[]*\[/, "", pid)
  sub(/\]$/, "", pid)
  sub(/^[0-9]+\//, "", pid)  # tid/pid: a thread of process pid
  if (pid in role) name = role[pid] " (" name ")"
  if (name == "<idle>") {
    idle[cpu] += $6
    next
  }
  runs[name]++
  run_ms[name] += $6
  wait_ms[name] += $4
  delay_ms[name] += $5
  on_cpu[name, cpu] += $6
}
END {
  span_ms = (last - first) * 1000
  if (span_ms <= 0) {
    print "no scheduler events recorded"
    exit 1
  }
  printf "## idle, of %.0f ms recorded:", span_ms
  for (c = 0; c in cpus; c++) printf " CPU %d %.1f %%", c, 100 * idle[c] / span_ms
  printf "\n## programs (a run: one stretch on a CPU; waiting: asleep or queued before it; delay: queued)\n"
  printf "| program | CPU ms | runs | µs per run | µs waiting before a run | µs delay | share of its time on CPU 0, 1, … |\n"
  printf "|---|---:|---:|---:|---:|---:|---|\n"
  for (name in runs) order[++n] = name
  # Busiest first (insertion sort: a handful of programs).
  for (i = 2; i <= n; i++)
    for (j = i; j > 1 && run_ms[order[j]] > run_ms[order[j - 1]]; j--) {
      t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
    }
  for (i = 1; i <= n && i <= 8; i++) {
    name = order[i]
    if (run_ms[name] < 1) continue
    shares = ""
    for (c = 0; c in cpus; c++) shares = shares (c ? ", " : "") sprintf("%.0f %%", 100 * on_cpu[name, c] / run_ms[name])
    printf "| %s | %.0f | %d | %.1f | %.1f | %.1f | %s |\n", name, run_ms[name], runs[name],
      1000 * run_ms[name] / runs[name], 1000 * wait_ms[name] / runs[name], 1000 * delay_ms[name] / runs[name], shares
  }
}
