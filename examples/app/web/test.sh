#!/usr/bin/env bash
# Test of notes-web as it ships: build the standalone output, pack it the way
# the release artifact is packed (web.tar.gz), run `node server.js` from the
# unpacked tarball against a fake notes API, and check what a visitor gets.
#
# Usage: bash test.sh   (or `npm test`)
# Env:   NODE  node binary that runs the server (default: node), e.g. a Node 18
#        build to check the hosts' runtime.
# Everything listens on 127.0.0.1 only; every wait has a deadline.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
export NEXT_TELEMETRY_DISABLED=1
NODE=${NODE:-node}
RELEASE=test-rel
SHA=0123abcd

work=$(mktemp -d)
api_pid=""
web_pid=""
passed=0
failed=0

stop() {
  local pid=$1
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

cleanup() {
  stop "$web_pid"
  stop "$api_pid"
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }

check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    printf 'ok   %s\n' "$what"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$what"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: run COMMAND until it succeeds or the deadline passes.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.2
  done
}

# fetch PATH NAME: GET the web server, body to $work/NAME.body, headers to
# $work/NAME.headers, status code to stdout.
fetch() {
  curl -sS --max-time 15 -o "$work/$2.body" -D "$work/$2.headers" \
    -w '%{http_code}' "http://127.0.0.1:$web_port$1"
}

has() { grep -qF -- "$2" "$work/$1"; }
lacks() { ! grep -qiF -- "$2" "$work/$1"; }
equals() { [[ $1 == "$2" ]]; }

step "npm ci (skipped while package-lock.json and node are unchanged)"
stamp="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [[ -f node_modules/.notes-web-stamp && "$(cat node_modules/.notes-web-stamp)" == "$stamp" ]]; then
  echo "node_modules is current"
else
  npm ci --no-audit --no-fund
  printf '%s\n' "$stamp" >node_modules/.notes-web-stamp
fi

step "npm run build"
build_start=$SECONDS
npm run build
echo "build took $((SECONDS - build_start)) s"

step "assemble and pack the artifact"
rm -rf .next/standalone/.next/static .next/standalone/public
cp -a .next/static .next/standalone/.next/static
cp -a public .next/standalone/public
tar -czf "$work/web.tar.gz" -C .next/standalone .
mkdir "$work/web"
tar -xzf "$work/web.tar.gz" -C "$work/web"
du -sh "$work/web.tar.gz" "$work/web"

step "start the fake API and the web server"
python3 tests/fake_api.py "$work/api.port" >"$work/api.log" 2>&1 &
api_pid=$!
if ! wait_for 10 test -s "$work/api.port"; then
  cat "$work/api.log"
  echo "fake API did not start" >&2
  exit 1
fi
api_port=$(cat "$work/api.port")
web_port=$(free_port)
(
  cd "$work/web"
  exec env PORT="$web_port" HOSTNAME=127.0.0.1 API_INTERNAL_URL="http://127.0.0.1:$api_port" \
    RELEASE_ID="$RELEASE" GIT_SHA="$SHA" "$NODE" server.js
) >"$work/web.log" 2>&1 &
web_pid=$!
web_up() {
  kill -0 "$web_pid" 2>/dev/null || return 2
  curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$web_port/release" 2>/dev/null
}
if ! wait_for 30 web_up; then
  cat "$work/web.log"
  echo "web server did not answer on 127.0.0.1:$web_port within 30 s" >&2
  exit 1
fi
echo "web on 127.0.0.1:$web_port ($("$NODE" --version)), fake API on 127.0.0.1:$api_port"

step "checks with the API up"
status=$(fetch / page)
check "/ answers 200" equals "$status" 200
check "/ has <h1>Notes</h1>" has page.body '<h1>Notes</h1>'
check "/ lists the first note title" has page.body 'data-testid="note-title">First fake note<'
check "/ lists the second note title" has page.body 'data-testid="note-title">Second fake note<'
check "/ shows the release id" has page.body "data-testid=\"release-id\">$RELEASE<"
check "/ has the new-note form" has page.body 'data-testid="note-form"'
check "/ is not cached" has page.headers 'no-store'
check "/ has no X-Powered-By" lacks page.headers 'x-powered-by'

status=$(fetch /release release)
check "/release answers 200" equals "$status" 200
release_json_ok() {
  python3 - "$work/release.body" "$RELEASE" "$SHA" <<'EOF'
import json
import sys

body = json.load(open(sys.argv[1], encoding="utf-8"))
expected = {"release_id": sys.argv[2], "git_sha": sys.argv[3], "component": "web"}
if body != expected:
    sys.exit(f"got {body!r}, expected {expected!r}")
EOF
}
check "/release is {release_id, git_sha, component: web}" release_json_ok
check "/release is not cached" has release.headers 'no-store'

for kind in js css; do
  asset=$(grep -oE "/_next/static/[^\"']+\\.$kind" "$work/page.body" | head -n 1 || true)
  check "/ references a .$kind asset" test -n "$asset"
  if [[ -n $asset ]]; then
    status=$(fetch "$asset" "asset-$kind")
    check "$asset answers 200" equals "$status" 200
  fi
done
status=$(fetch /robots.txt robots)
check "/robots.txt (public/) answers 200" equals "$status" 200

step "checks with the API down"
stop "$api_pid"
api_pid=""
status=$(fetch / down)
check "/ still answers 200" equals "$status" 200
check "/ still has <h1>Notes</h1>" has down.body '<h1>Notes</h1>'
check "/ says the API is unreachable" has down.body 'data-testid="api-error"'
check "/ lists no note" lacks down.body 'data-testid="note-title"'
status=$(fetch /release release-down)
check "/release still answers 200" equals "$status" 200

if ((failed > 0)); then
  echo "--- web server log"
  tail -n 40 "$work/web.log"
fi
echo "web: $passed passed, $failed failed"
((failed == 0))
