#!/usr/bin/env bash
# Test notes-api: a venv with the pinned requirements (reused while they are unchanged), the
# package built as a wheel from a clean copy and installed (as on a host), then pytest.
# Extra arguments go to pytest. Needs python3 (3.11+) and PyPI; with the PostgreSQL server
# binaries (postgresql-15) the tests also run against a throwaway cluster.
set -euo pipefail

api_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(cd "$api_dir/../../.." && pwd)
build_dir="${SIGMA_BUILD_DIR:-$root_dir/.build}"
venv="$build_dir/app-api-venv"
python="${PYTHON:-python3}"
# pip for a venv made without ensurepip (Debian's python3 without python3-venv).
pip_url=https://files.pythonhosted.org/packages/07/25/ee8c38ae72d66b844ce8eb9711ba905dba21ca1a8a0c960057c41cd23337/pip-26.3-py3-none-any.whl
pip_sha256=f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13

die() { echo "app-api test: $*" >&2; exit 1; }

stamp() {
  echo "$(cat "$api_dir/requirements.lock" "$api_dir/requirements-sqs.lock" "$api_dir/requirements-test.txt" | sha256sum | cut -c1-16)-$("$python" -V 2>&1 | tr -d ' ')"
}

bootstrap_pip() {
  "$venv/bin/python" - "$pip_url" "$pip_sha256" <<'PY'
import hashlib, subprocess, sys, tempfile, urllib.request
from pathlib import Path

url, sha256 = sys.argv[1:]
data = urllib.request.urlopen(url, timeout=120).read()
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"checksum mismatch for {url}")
wheel = Path(tempfile.mkdtemp()) / url.rsplit("/", 1)[1]
wheel.write_bytes(data)
subprocess.check_call([sys.executable, f"{wheel}/pip", "install", "-q", "--no-index", str(wheel)])
PY
}

make_venv() {
  rm -rf "$venv"
  mkdir -p "$build_dir"
  echo "app-api test: creating $venv"
  if "$python" -c 'import ensurepip' >/dev/null 2>&1; then
    "$python" -m venv "$venv" || die "could not create $venv"
  else
    "$python" -m venv --without-pip "$venv" || die "could not create $venv"
    bootstrap_pip || die "could not install pip into $venv"
  fi
}

command -v "$python" >/dev/null 2>&1 || die "$python not found (apt-get install python3)"
"$python" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' \
  || die "$python is $("$python" -V 2>&1); notes-api needs Python 3.11 or newer"

if [[ ! -f "$venv/.stamp" || "$(cat "$venv/.stamp")" != "$(stamp)" ]] \
    || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  [[ -x "$venv/bin/python" && "$("$venv/bin/python" -V 2>&1)" == "$("$python" -V 2>&1)" ]] \
    || make_venv
  rm -f "$venv/.stamp"
  echo "app-api test: installing the pinned requirements"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
    -r "$api_dir/requirements.lock" -r "$api_dir/requirements-sqs.lock" \
    -r "$api_dir/requirements-test.txt" \
    || die "pip install failed (see above)"
  stamp >"$venv/.stamp"
fi

# Build from a copy, so no stale build/ or egg-info in the tree ends up in the wheel.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$api_dir/pyproject.toml" "$api_dir/README.md" "$api_dir/src" "$work/"
"$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
  -w "$work/dist" "$work" || die "building the notes-api wheel failed"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall \
  "$work"/dist/notes_api-*.whl || die "installing the notes-api wheel failed"

cd "$api_dir"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -p no:cacheprovider tests "$@"
