# shellcheck shell=bash disable=SC2034,SC2153 # globals here are read, and PORT/ADMIN set, by the sourcing script
# End-to-end checks of a running demo stack (scripts/demo.sh --smoke): what the README's "try this" block promises,
# asserted. Source after common.sh; needs PORT, ADMIN and DEMO_WORKDIR. Uses curl only.

SMOKE_PASSED=0
SMOKE_FAILED=0
STATUS=""

# request METHOD PATH [curl args...]: sets STATUS; the headers and body land in $DEMO_WORKDIR/{headers,body}.
request() {
  local method=$1 path=$2
  shift 2
  STATUS=$(curl -sS -X "$method" -o "$DEMO_WORKDIR/body" -D "$DEMO_WORKDIR/headers" -w '%{http_code}' --max-time 5 \
    "$@" "http://127.0.0.1:$PORT$path" 2>>"$DEMO_WORKDIR/curl.log") || STATUS=000
}

# check DESCRIPTION COMMAND...: records one assertion; on failure shows what the last response was.
check() {
  local description=$1
  shift
  if "$@"; then
    SMOKE_PASSED=$((SMOKE_PASSED + 1))
    printf '  ok    %s\n' "$description"
  else
    SMOKE_FAILED=$((SMOKE_FAILED + 1))
    printf '  FAIL  %s\n' "$description"
    printf '        last response: %s\n' "$STATUS"
    { cat "$DEMO_WORKDIR/headers" "$DEMO_WORKDIR/body" 2>/dev/null && echo; } | sed 's/^/        | /' | head -n 30
  fi
}

status_is() { [[ $STATUS == "$1" ]]; }
header_matches() { tr -d '\r' <"$DEMO_WORKDIR/headers" | grep -qiE "^$1"; }
body_matches() { grep -qE "$1" "$DEMO_WORKDIR/body"; }
sid_from_headers() { tr -d '\r' <"$DEMO_WORKDIR/headers" | sed -nE 's/^[Ss]et-[Cc]ookie: sid=([0-9a-f]{32});.*/\1/p'; }

run_smoke_checks() {
  local admin_sid user_sid codes
  echo "smoke: Gatehouse on 127.0.0.1:$PORT, admin $ADMIN, upstream $UPSTREAM, store $STORE"

  request GET /health
  check "GET /health reaches the app (no filters) → 200" status_is 200

  request GET /
  check "GET / → 200 from the demo app" status_is 200
  check "GET / carries X-RateLimit-Limit (per_client policy)" header_matches 'x-ratelimit-limit: [0-9]+'

  request GET /api/whoami
  check "GET /api/whoami without a session → 401 from Gatehouse" status_is 401

  request POST '/login?user=alice&role=admin'
  check "POST /login as alice/admin → 200" status_is 200
  admin_sid=$(sid_from_headers)
  check "POST /login sets a 32-hex sid cookie" test -n "$admin_sid"

  request GET /api/whoami -H "Cookie: sid=$admin_sid" -H 'X-User: mallory' -H 'X-User-Roles: root'
  check "GET /api/whoami with the cookie → 200" status_is 200
  check "the app sees X-User: alice (the client's own X-User was dropped)" body_matches '"x-user":"alice"'
  check "the app sees X-User-Roles: admin" body_matches '"x-user-roles":"admin"'
  check "the app sees an X-Request-ID" body_matches '"x-request-id":"[^"]+"'
  check "the app sees X-Forwarded-For" body_matches '"x-forwarded-for":"[^"]*127\.0\.0\.1'
  check "the api route's headers filter set Cache-Control: no-store" header_matches 'cache-control: no-store'

  request GET /admin -H "Cookie: sid=$admin_sid"
  check "GET /admin as an admin → 200" status_is 200

  request POST '/login?user=bob&role=user'
  user_sid=$(sid_from_headers)
  request GET /admin -H "Cookie: sid=$user_sid"
  check "GET /admin as a plain user → 403" status_is 403

  request GET /admin -H 'Accept: text/html'
  check "GET /admin from a browser without a session → 302" status_is 302
  check "the redirect goes to the login page" header_matches 'location: [^ ]*/login\?next='
  request GET /admin -H 'Accept: application/json'
  check "GET /admin from an API client without a session → 401" status_is 401

  request POST /logout -H "Cookie: sid=$admin_sid"
  check "POST /logout → 200" status_is 200
  request GET /api/whoami -H "Cookie: sid=$admin_sid"
  check "the logged-out session no longer works → 401" status_is 401

  # One curl, many requests on one keep-alive connection: well past the per-second burst within a fraction of it.
  local urls=() i
  for ((i = 0; i < 40; i++)); do urls+=(-o /dev/null "http://127.0.0.1:$PORT/public/burst"); done
  codes=$(curl -s -w '%{http_code}\n' --max-time 10 "${urls[@]}" 2>>"$DEMO_WORKDIR/curl.log" || true)
  STATUS=$(tr '\n' ' ' <<<"$codes")
  check "a burst of 40 requests is admitted at first" grep -q '^200$' <<<"$codes"
  check "a burst of 40 requests is cut off with 429" grep -q '^429$' <<<"$codes"

  STATUS=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADMIN/readyz" || echo 000)
  check "admin /readyz → 200 (upstream and store answer)" status_is 200

  echo "smoke: $SMOKE_PASSED passed, $SMOKE_FAILED failed"
  [[ $SMOKE_FAILED -eq 0 ]]
}
