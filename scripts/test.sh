#!/usr/bin/env bash
# Everything CI checks (.ci/run runs this): installs missing dependencies and the npm test peer, builds Release and
# runs every test, runs the demo end to end, then builds with AddressSanitizer + UBSan and runs every test again.
# Prints one line per stage and a closing "N passed, N failed" line; exits non-zero when anything failed.
#
#   scripts/test.sh [--no-deps] [--no-asan] [--no-demo]
#
# Environment: TEST_TIMEOUT (seconds per test without its own timeout, default 300), CTEST_JOBS (tests run in
# parallel, default 2), JOBS (compile jobs, default the number of cores), CI=true (warnings are errors).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$GATEHOUSE_ROOT"

deps=true
asan=true
demo=true
for arg in "$@"; do
  case $arg in
    --no-deps) deps=false ;;
    --no-asan) asan=false ;;
    --no-demo) demo=false ;;
    -h | --help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

test_timeout=${TEST_TIMEOUT:-300}
ctest_jobs=${CTEST_JOBS:-2}

stage_lines=()
tests_passed=0
tests_failed=0
failed_stages=0

# stage NAME COMMAND...: runs one step, records ok/FAILED with its duration. A failed step does not stop the run
# (later stages still report), except where a later stage needs its output (see below).
stage() {
  local name=$1 start=$SECONDS rc=0
  shift
  log "=== $name"
  "$@" || rc=$?
  if [[ $rc -eq 0 ]]; then
    stage_lines+=("$(printf '  %-22s ok      %5ss' "$name" $((SECONDS - start)))")
  else
    stage_lines+=("$(printf '  %-22s FAILED  %5ss (exit %s)' "$name" $((SECONDS - start)) "$rc")")
    failed_stages=$((failed_stages + 1))
  fi
  return "$rc"
}

install_peers() {
  if [[ -f tests/peers/install.sh ]]; then
    sh tests/peers/install.sh
  else
    log "no tests/peers/install.sh: no test peers to install"
  fi
}

# run_ctest BUILD_DIR: runs the suite with a per-test timeout and adds its counts to the totals. ctest's closing
# line ("100% tests passed, 0 tests failed out of 245") is the source of the counts.
run_ctest() {
  local dir=$1 log_file=$1/ctest.log rc=0 summary total failed
  ctest --test-dir "$dir" --output-on-failure --timeout "$test_timeout" --parallel "$ctest_jobs" --no-tests=error \
    2>&1 | tee "$log_file" || rc=$?
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_file" | tail -n 1 || true)
  if [[ -n $summary ]]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
    failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    tests_passed=$((tests_passed + total - failed))
    tests_failed=$((tests_failed + failed))
  else
    tests_failed=$((tests_failed + 1)) # ctest itself failed before running anything: count it as one failure
  fi
  return "$rc"
}

run_release_tests() { run_ctest build; }

run_asan_tests() {
  # Stop at the first report, with a stack, and fail the test: a sanitizer finding is a failed test, not a warning.
  ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    run_ctest build-asan
}

run_demo_smoke() {
  local rc=0
  scripts/demo.sh --smoke --no-deps --no-build || rc=$?
  if [[ $rc -eq 0 ]]; then tests_passed=$((tests_passed + 1)); else tests_failed=$((tests_failed + 1)); fi
  return "$rc"
}

overall_start=$SECONDS
if $deps; then
  stage "install deps" scripts/install-deps.sh || true
  stage "install test peers" install_peers || true
fi

if stage "build release" scripts/build.sh Release; then
  stage "tests (release)" run_release_tests || true
  if $demo; then stage "demo smoke" run_demo_smoke || true; fi
else
  tests_failed=$((tests_failed + 1))
fi

if $asan; then
  if stage "build asan" scripts/build.sh asan; then
    stage "tests (asan)" run_asan_tests || true
  else
    tests_failed=$((tests_failed + 1))
  fi
fi

echo
echo "test.sh: stages ($((SECONDS - overall_start))s in all)"
printf '%s\n' "${stage_lines[@]}"
if [[ $failed_stages -eq 0 ]]; then
  echo "test.sh: all stages passed"
else
  echo "test.sh: $failed_stages stage(s) FAILED"
fi
echo "gatehouse: $tests_passed passed, $tests_failed failed"
[[ $failed_stages -eq 0 && $tests_failed -eq 0 ]]
