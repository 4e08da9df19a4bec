#!/usr/bin/env bash
# Finish a debootstrapped root file system as a systemd test host (called by build-image.sh).
# Usage: image-setup.sh ROOTFS   (MIRROR and SUITE in the environment)
set -euo pipefail
root="$1"

cat >"$root/etc/apt/sources.list" <<EOF
deb ${MIRROR} ${SUITE} main
deb ${MIRROR} ${SUITE}-updates main
deb ${MIRROR%/debian}/debian-security ${SUITE}-security main
EOF

# Each host gets its own SSH host keys on first boot, not the image's.
rm -f "$root"/etc/ssh/ssh_host_*
cat >"$root/etc/systemd/system/ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/ssh-hostkeys.service \
  "$root/etc/systemd/system/multi-user.target.wants/ssh-hostkeys.service"

# Units that make no sense in a container: consoles and hardware.
for unit in getty@tty1.service console-getty.service serial-getty@.service \
    systemd-udevd.service systemd-udev-trigger.service systemd-remount-fs.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# A fresh machine id per container; root has no password (SSH keys only).
: >"$root/etc/machine-id"
chroot "$root" passwd -l root >/dev/null
echo "sigma-host" >"$root/etc/hostname"

# Small image: no apt lists, caches or docs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
# An honest apt state: no lists means never updated. apt (and Ansible's cache_valid_time) reads
# the age of the index from the lists directory's mtime, or from the periodic update stamp: left
# at the build time, empty lists would look fresh for an hour and every install would fail with
# "no package matching ..." on a host started within an hour of the build.
rm -f "$root"/var/lib/apt/periodic/update-success-stamp
touch -d @0 "$root"/var/lib/apt/lists
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
