#!/usr/bin/env bash
# Install what `make demo` and `make test` need, and nothing else; a second run is a no-op.
#
#   tools/bootstrap.sh system demo|test   Debian packages (apt-get, as root)
#   tools/bootstrap.sh venv FILE          .venv with the pinned requirements FILE
#
# Missing packages and not root: one message naming the command to run, exit 1.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${VENV:-$root_dir/.venv}"
python="${PYTHON:-python3}"

die() { echo "bootstrap: $*" >&2; exit 1; }

check_disk() {
  local need_mb=$1 dir=$2 free_mb
  free_mb=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
  (( free_mb >= need_mb )) || die "only ${free_mb} MB free in $dir, ${need_mb} MB needed; free some disk space"
}

system() {
  local purpose=$1 missing=() cmd pkg
  # command:package pairs; the test tools are a superset of the demo's.
  local needs=(podman:podman runc:runc debootstrap:debootstrap ssh:openssh-client
               ssh-keygen:openssh-client ssh-keyscan:openssh-client tar:tar
               node:nodejs npm:npm docker-registry:docker-registry)
  if [[ "$purpose" == "test" ]]; then
    needs+=(git:git shellcheck:shellcheck curl:curl)
    # The reference API's tests run a throwaway PostgreSQL cluster of their own.
    [[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=("postgresql-15")
  fi
  for pair in "${needs[@]}"; do
    cmd=${pair%%:*} pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3.11 (apt-get install python3)"
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' \
    || die "$python is $("$python" -V 2>&1); ansible-core 2.19 needs Python 3.11 or newer"
  if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  if (( ${#missing[@]} )); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [[ $(id -u) -ne 0 ]]; then
      die "missing Debian packages: ${missing[*]}. Run as root: apt-get update && apt-get install -y ${missing[*]}"
    fi
    check_disk 1000 /var/cache/apt
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed; check the Debian mirror in /etc/apt/sources.list*"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed (see above)"
    # Debian starts docker-registry as a service on :5000 (every address). The container rungs
    # run their own on loopback, only while the simulator runs: keep the package's one off.
    if [[ " ${missing[*]} " == *" docker-registry "* ]] && [[ -d /run/systemd/system ]]; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    fi
  fi
  local err
  if ! err=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
    die "podman is installed but does not work here: $(tail -n 1 <<<"$err")"
  fi
}

stamp_of() {
  # What a requirement file's stamp must say: its content (and the controller file it
  # includes), this script, and the interpreter version.
  local req=$1
  echo "$(cat "$root_dir/requirements.txt" "$root_dir/$req" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)-$("$python" -V 2>&1 | tr -d ' ')"
}

venv() {
  local req=$1 stamp_dir="$venv/.sigma-stamps"
  [[ -f "$root_dir/$req" ]] || die "no requirements file $req"
  if [[ -f "$stamp_dir/$req" && "$(cat "$stamp_dir/$req")" == "$(stamp_of "$req")" ]] \
      && "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  if ! "$venv/bin/python" -c 'import sys' 2>/dev/null \
      || [[ "$("$venv/bin/python" -V 2>&1)" != "$("$python" -V 2>&1)" ]]; then
    check_disk 2000 "$root_dir"
    rm -rf "$venv"
    echo "bootstrap: creating $venv"
    "$python" -m venv "$venv" || die "could not create $venv (python3-venv missing?)"
  fi
  echo "bootstrap: installing $req into $venv"
  # A stamp is written only after a complete install, so a half-installed venv never
  # looks valid and the next run completes it.
  rm -f "$stamp_dir/$req"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root_dir/$req" \
    || die "pip install -r $req failed (see above)"
  mkdir -p "$stamp_dir"
  stamp_of "$req" >"$stamp_dir/$req"
  # The test requirements include the controller's.
  stamp_of requirements.txt >"$stamp_dir/requirements.txt"
}

case "${1:-}" in
  system) system "${2:-demo}" ;;
  venv) venv "${2:?requirements file}" ;;
  *) die "usage: $0 system demo|test | venv FILE" ;;
esac
