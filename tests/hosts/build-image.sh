#!/usr/bin/env bash
# Build the Debian 12 systemd test-host image with debootstrap and import it into podman.
#
# The image tag carries a hash of this recipe, so the image is built once and rebuilt only
# when the recipe changes. The build goes to a temporary name and is renamed when complete:
# an interrupted build never leaves an image that looks valid.
#
# Usage: tests/hosts/build-image.sh [--print-tag]
# Environment: CONTAINERS_CONF (set by the Makefile), DEBIAN_MIRROR (default: this machine's
# apt mirror, else http://deb.debian.org/debian).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo="sigma-deploy-host"
suite="bookworm"
packages="systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,openssh-client,sudo,iproute2,ca-certificates,procps,netbase,less"

recipe_hash=$(cat "$0" "$here/image-setup.sh" | sha256sum | cut -c1-12)
tag="localhost/${repo}:${recipe_hash}"

if [[ "${1:-}" == "--print-tag" ]]; then
  echo "$tag"
  exit 0
fi

die() { echo "build-image: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "debootstrap needs root; run as root (sudo make ...)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v podman >/dev/null || die "podman is missing: apt-get install podman runc"

if podman image exists "$tag"; then
  echo "build-image: $tag is up to date"
  exit 0
fi

mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" && -r /etc/apt/sources.list.d/debian.sources ]]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [[ -z "$mirror" && -r /etc/apt/sources.list ]]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

workdir_parent="${TMPDIR:-/var/tmp}"
free_kb=$(df -Pk "$workdir_parent" | awk 'NR==2 {print $4}')
(( free_kb > 1500000 )) || die "less than 1.5 GB free in $workdir_parent; free some disk space or set TMPDIR"

rootfs=$(mktemp -d "$workdir_parent/sigma-rootfs.XXXXXX")
tmp_tag="localhost/${repo}-partial:${recipe_hash}-$$"
cleanup() {
  rm -rf --one-file-system "$rootfs"
  podman rmi -f "$tmp_tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "build-image: debootstrap $suite from $mirror (about a minute)"
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
    >"$rootfs.log" 2>&1; then
  tail -n 20 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  die "debootstrap failed (log above); check that $mirror is reachable"
fi
rm -f "$rootfs.log"

MIRROR="$mirror" SUITE="$suite" bash "$here/image-setup.sh" "$rootfs"

echo "build-image: importing into podman as $tag"
tar --numeric-owner -C "$rootfs" -c . | podman import --quiet \
  --change 'CMD ["/sbin/init"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change 'ENV container=podman' \
  - "$tmp_tag" >/dev/null
podman tag "$tmp_tag" "$tag"
podman rmi "$tmp_tag" >/dev/null
# Older recipes are no longer used by anything: drop them.
podman images --format '{{.Repository}}:{{.Tag}}' \
  | awk -v keep="$tag" -v repo="localhost/$repo:" 'index($0, repo) == 1 && $0 != keep' \
  | xargs -r podman rmi -f >/dev/null 2>&1 || true
echo "build-image: built $tag in $(( $(date +%s) - start )) s"
