#!/bin/busybox sh
# /init of the e2e initramfs (busybox only). It loads virtio + 9p, mounts the
# host root read-only over 9p, the writable share and tmpfs for /run and /tmp,
# then switch_roots into the host root and runs the stage-2 script with bash.
# Kernel command line values arrive as environment: e2e_stage2, e2e_share_dir,
# e2e_repo_dir (where the repository's own read-only share goes).
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
  echo "E2E-INITRAMFS-FAIL: $*"
  # 126 tells the host the initramfs itself failed (qemu exits 2*126+1).
  printf '\176' | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
  sleep 2
  poweroff -f
}

mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
echo "E2E-INITRAMFS uptime=$(cut -d' ' -f1 /proc/uptime)"

while read -r module; do
  [ -n "$module" ] || continue
  insmod "/modules/$module.ko" || fail "insmod $module"
done < /modules/order

opts=trans=virtio,version=9p2000.L,msize=262144
# The root is read-only on the host side too; loose caching saves many 9p round trips.
if [ "$e2e_init" = systemd ]; then
  # What the image installs (share "install", a recipe's ${D}) lies over the
  # host root, read-only, so the installed files sit at their real paths.
  mkdir -p /lower/host /lower/install
  mount -t 9p -o "$opts,ro,cache=loose" root /lower/host || fail "mount 9p root"
  mount -t 9p -o "$opts,ro,cache=loose" install /lower/install || fail "mount 9p install"
  mount -t overlay -o ro,lowerdir=/lower/install:/lower/host overlay /newroot || fail "mount overlay of install over root"
else
  mount -t 9p -o "$opts,ro,cache=loose" root /newroot || fail "mount 9p root"
fi
for dir in /proc /sys /dev /run /tmp; do
  [ -d "/newroot$dir" ] || fail "host root has no $dir"
done
mount -t tmpfs -o mode=0755,size=256m tmpfs /newroot/run || fail "tmpfs /run"
mount -t tmpfs -o mode=1777,size=512m tmpfs /newroot/tmp || fail "tmpfs /tmp"
share="${e2e_share_dir:-/run/e2e-share}"
mkdir -p "/newroot$share"
# No caching on the share: results must reach the host as written.
mount -t 9p -o "$opts,cache=none" share "/newroot$share" || fail "mount 9p share"
# The repository comes in as its own share, not by its host path (which may
# sit under the /tmp or /run that the tmpfs above hide).
repo="${e2e_repo_dir:-/run/e2e-repo}"
mkdir -p "/newroot$repo"
mount -t 9p -o "$opts,ro,cache=loose" repo "/newroot$repo" || fail "mount 9p repo"
mount --move /dev /newroot/dev || fail "move /dev"
mount --move /sys /newroot/sys || fail "move /sys"
mount --move /proc /newroot/proc || fail "move /proc"

if [ "$e2e_init" = systemd ]; then
  # systemd as PID 1, with no unit but those in $e2e_units (and no
  # generators: they would only write units for the host's fstab and ttys).
  # container= (empty) says "not a container": else systemd takes the host
  # root's /.dockerenv for one and ignores the kernel command line.
  [ -n "$e2e_units" ] && [ -d "/newroot$e2e_units" ] || fail "no unit directory $e2e_units in the share"
  [ -x /newroot/lib/systemd/systemd ] || fail "no /lib/systemd/systemd on the host: install the Debian package 'systemd'"
  exec env container= SYSTEMD_UNIT_PATH="$e2e_units" SYSTEMD_GENERATOR_PATH=/nonexistent \
    SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/nonexistent switch_root /newroot /lib/systemd/systemd
fi
[ -n "$e2e_stage2" ] || fail "no e2e_stage2 on the kernel command line"
exec switch_root /newroot /bin/bash "$e2e_stage2"
fail "switch_root"
