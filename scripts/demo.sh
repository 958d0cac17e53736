#!/usr/bin/env bash
# Runs Gatehouse in front of the demo app, with sessions and rate-limit counters in a throwaway Redis (README:
# command 1). Prints a few curl commands to try, streams Gatehouse's log, and on Ctrl-C stops everything it started.
#
#   scripts/demo.sh [--smoke] [--no-deps] [--no-build]
#
#   --smoke      start everything on free ports, run the end-to-end checks (scripts/lib/smoke.sh), stop, exit
#   --no-deps    skip scripts/install-deps.sh
#   --no-build   use the binaries already in build/
#
# Environment (config.yaml reads these): PORT (8080), ADMIN (127.0.0.1:9901), STORE (redis here; memory = no Redis,
# and then no logins), REDIS_URL (default: the Redis this script starts), UPSTREAM (default: the demo app this
# script starts), RATE_LIMIT_RPM, RATE_LIMIT_BURST; CONFIG (./config.yaml) picks another file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib/demo_stack.sh
source "$GATEHOUSE_ROOT/scripts/lib/demo_stack.sh"
# shellcheck source-path=SCRIPTDIR source=lib/smoke.sh
source "$GATEHOUSE_ROOT/scripts/lib/smoke.sh"
cd "$GATEHOUSE_ROOT"

smoke=false
deps=true
build=true
for arg in "$@"; do
  case $arg in
    --smoke) smoke=true ;;
    --no-deps) deps=false ;;
    --no-build) build=false ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

export STORE=${STORE:-redis}
if $smoke; then
  # Free ports, so that a smoke run never collides with a demo (or anything else) on 8080/9901.
  export PORT=${PORT:-$(pick_free_port)}
  export ADMIN=${ADMIN:-127.0.0.1:$(pick_free_port)}
  export RATE_LIMIT_BURST=${RATE_LIMIT_BURST:-20} # above what the checks send before their burst test
  export ACCESS_LOG=${ACCESS_LOG:-off}
else
  export PORT=${PORT:-8080}
  export ADMIN=${ADMIN:-127.0.0.1:9901}
fi
config=${CONFIG:-$GATEHOUSE_ROOT/config.yaml}
gatehouse_bin=$GATEHOUSE_ROOT/build/proxy/gatehouse
app_bin=$GATEHOUSE_ROOT/build/demo/gatehouse_demo_app

if $deps; then scripts/install-deps.sh; fi
if $build; then TARGETS="gatehouse gatehouse_demo_app" scripts/build.sh Release; fi

[[ -x $gatehouse_bin ]] || die "no gatehouse binary at $gatehouse_bin: the build did not produce it (scripts/build.sh)"
[[ -x $app_bin ]] || die "no demo app at $app_bin: the build did not produce it (scripts/build.sh)"
[[ -f $config ]] || die "no config file at $config"
if tcp_port_open "$PORT"; then die "port $PORT is already in use: choose another with PORT=..."; fi
if tcp_port_open "${ADMIN##*:}"; then die "admin port ${ADMIN##*:} is already in use: choose another with ADMIN=..."; fi
if ! check_output=$("$gatehouse_bin" --check --config "$config" 2>&1 >/dev/null); then
  printf '%s\n' "$check_output" >&2
  die "$config is not valid"
fi

make_demo_workdir
trap stop_demo_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ $STORE == redis && -z ${REDIS_URL:-} ]]; then
  start_redis
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi
if [[ -z ${UPSTREAM:-} ]]; then
  app_redis=""
  [[ $STORE == redis ]] && app_redis=$REDIS_URL
  start_demo_app "$app_bin" "$app_redis"
  export UPSTREAM=$APP_ADDRESS
fi

if $smoke; then
  start_gatehouse "$gatehouse_bin" "$config" "$DEMO_WORKDIR/gatehouse.log"
  if run_smoke_checks; then exit 0; fi
  log "smoke checks failed; gatehouse log (last 40 lines):"
  tail -n 40 "$DEMO_WORKDIR/gatehouse.log" >&2
  exit 1
fi

start_gatehouse "$gatehouse_bin" "$config" /dev/stdout
base="http://127.0.0.1:$PORT"
jar="$DEMO_WORKDIR/cookies"
cat <<TRY

Gatehouse listens on $base (admin http://$ADMIN)
  upstream: $UPSTREAM (demo app)   store: $STORE${REDIS_URL:+ ($REDIS_URL)}

Try:
  # log in: the demo app writes session:<id> to Redis and sets the sid cookie
  curl -i -c $jar -X POST '$base/login?user=alice&role=admin'
  # Gatehouse checks the cookie in Redis and tells the app who you are (X-User, X-User-Roles)
  curl -b $jar $base/api/whoami
  # no session: Gatehouse answers 401 itself; the app never sees the request
  curl -i $base/api/whoami
  # rate-limit headers, then a burst past the per-second limit: 429
  curl -si $base/ | grep -i ratelimit
  for i in \$(seq 15); do curl -s -o /dev/null -w '%{http_code} ' $base/public/x; done; echo
  # admin endpoints
  curl http://$ADMIN/healthz; curl http://$ADMIN/readyz

Ctrl-C stops Gatehouse, the demo app and Redis.
TRY
[[ $STORE == redis ]] || echo "(STORE=$STORE: logins need STORE=redis, so /login answers 503)"

rc=0
wait "$GATEHOUSE_PID" || rc=$?
GATEHOUSE_PID=""
log "gatehouse exited with status $rc"
exit "$rc"
