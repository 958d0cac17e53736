# shellcheck shell=bash
# What a benchmark script needs before it starts anything: the tools, a Release Gatehouse and the helper, enough
# file descriptors, a results directory, the CPU pinning of wrk, and the clean-up on exit. Sourced by bench/run.sh
# and bench/profile.sh.

# scripts/install-deps.sh --bench installs whatever is missing (wrk, nginx-light, redis, curl...) and is a quick,
# silent no-op when nothing is; without it (bench/ copied elsewhere) the tools must already be there.
ensure_tools() {
  if [[ -x $REPO_DIR/scripts/install-deps.sh ]]; then
    "$REPO_DIR/scripts/install-deps.sh" --bench >&2 || die "scripts/install-deps.sh --bench failed"
  fi
  local missing=() tool
  for tool in wrk nginx redis-server redis-cli curl ss taskset awk pgrep; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]} > 0)); then
    die "missing tools: ${missing[*]} (Debian: apt-get install wrk nginx-light redis-server curl iproute2 util-linux procps)"
  fi
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

# Gatehouse and (when IDLE_CONNECTIONS > 0) the idle-connection helper: given, found in build/ (scripts/build.sh
# Release), or built in build-bench.
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
  [[ -z $IDLE_HELPER_BIN && $IDLE_CONNECTIONS -gt 0 ]] && targets+=(bench_idle_connections)
  if ((${#targets[@]} > 0)); then
    log "building ${targets[*]} (Release) in $own_build"
    cmake -S "$REPO_DIR" -B "$own_build" -DCMAKE_BUILD_TYPE=Release -DGATEHOUSE_BUILD_TESTS=OFF >"$own_build.log" 2>&1 ||
      die "cmake configure failed; see $own_build.log"
    cmake --build "$own_build" --target "${targets[@]}" -j "$(nproc)" >>"$own_build.log" 2>&1 ||
      die "build failed; see $own_build.log"
    [[ -z $GATEHOUSE_BIN && $NGINX_ONLY == 0 ]] && GATEHOUSE_BIN=$own_build/proxy/gatehouse
    [[ -z $IDLE_HELPER_BIN && $IDLE_CONNECTIONS -gt 0 ]] && IDLE_HELPER_BIN=$own_build/bench/bench_idle_connections
  fi
  GATEHOUSE_BUILD_TYPE=n/a
  if [[ $NGINX_ONLY == 0 ]]; then
    [[ -x $GATEHOUSE_BIN ]] || die "no Gatehouse binary at $GATEHOUSE_BIN"
    GATEHOUSE_BUILD_TYPE=$(build_type_of "$GATEHOUSE_BIN")
    case $GATEHOUSE_BUILD_TYPE in
      Release | RelWithDebInfo) ;;
      *) die "$GATEHOUSE_BIN is a '$GATEHOUSE_BUILD_TYPE' build; benchmark a Release build (scripts/build.sh Release)" ;;
    esac
    # A binary older than the sources measures code that is no longer there: said in the summary, not refused
    # (rebuilding someone else's build tree is not this script's call).
    local newer
    newer=$(find "$REPO_DIR/proxy" "$REPO_DIR/store" "$REPO_DIR/filters" \( -name '*.cpp' -o -name '*.h' \) \
      -newer "$GATEHOUSE_BIN" 2>/dev/null | wc -l)
    GATEHOUSE_STALE=""
    TREE_AT_START=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if ((newer > 0)); then
      GATEHOUSE_STALE="$newer source file(s) are newer than this binary"
      log "warning: $GATEHOUSE_BIN is older than $newer source file(s); rebuild it for current numbers"
    fi
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

# new_run_dir [SUFFIX]: a fresh directory under bench/results for this run's files; results/latest points at it.
new_run_dir() {
  local stamp
  stamp=$(date '+%Y%m%d-%H%M%S')
  RUN_DIR="$BENCH_DIR/results/$stamp${1:+-$1}"
  mkdir -p "$RUN_DIR"
  ln -sfn "$(basename "$RUN_DIR")" "$BENCH_DIR/results/latest"
}

# wrk needs a CPU of its own to measure the proxies rather than itself: on a small machine it gets the last CPU and
# the servers share the others with it through the scheduler (the same for every target).
choose_pinning() {
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
}

# The EXIT trap: stops every process this run started, by PID, however the script ends.
on_exit() {
  local status=$?
  stop_all_processes
  if ((status != 0)); then log "stopped (exit $status); logs in ${RUN_DIR:-?}"; fi
}

