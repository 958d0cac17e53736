# What bench/profile.sh and bench/count.sh share: the libraries, and the defaults for driving one target with
# wrk (the caller sets BENCH_DIR and REPO_DIR first, then parses its own options over these defaults).
# shellcheck shell=bash disable=SC2034  # the variables are read by the libraries and the calling script

# shellcheck source=bench/lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=bench/lib/measure.sh
source "$BENCH_DIR/lib/measure.sh"
# shellcheck source=bench/lib/targets.sh
source "$BENCH_DIR/lib/targets.sh"
# shellcheck source=bench/lib/setup.sh
source "$BENCH_DIR/lib/setup.sh"

TARGET=gh-sess-rl
WORKERS=1
CONNECTIONS=50
PIN=1
NGINX_ONLY=0
IDLE_CONNECTIONS=0
UPSTREAM_WORKERS=1
GATEHOUSE_BIN=${GATEHOUSE_BIN:-}

# Any target but the bare upstream; an nginx target needs no Gatehouse build.
check_target_name() {
  [[ -n ${TARGET_TITLE[$TARGET]:-} && $TARGET != direct ]] ||
    die "--target must be one of: ${!TARGET_TITLE[*]} (not direct)"
  [[ $TARGET == gh-* ]] || NGINX_ONLY=1
}

# A new run directory named "<kind>-<target>", with everything the run starts stopped by PID when the script
# exits, however it exits.
prepare_one_target_run() {
  local kind=$1
  ensure_binaries
  raise_file_limit
  new_run_dir "$kind-$TARGET"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  choose_pinning
  ALL_TARGETS=("$TARGET")
}

# The upstream, Redis and $TARGET ($WORKERS workers), started as bench/run.sh starts them.
start_one_target_servers() {
  start_backends 1
  start_target "$TARGET" "$WORKERS"
  check_targets
}

start_one_target() {
  prepare_one_target_run "$1"
  start_one_target_servers
}
