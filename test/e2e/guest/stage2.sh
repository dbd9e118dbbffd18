#!/bin/bash
# PID 1 of the e2e VM after switch_root into the host root (read-only 9p).
# Sets up the writable places, loads the kernel modules of the data path
# (optionally a replacement .ko), runs the host's script from the share and
# reports its exit code through the isa-debug-exit port 0xf4.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8 TERM=dumb
export E2E_SHARE="${e2e_share_dir:-/run/e2e-share}"
export E2E_GUEST_DIR
E2E_GUEST_DIR="$(dirname "$(readlink -f "$0")")"

# qemu exits with (code << 1) | 1; codes above 127 are folded to 127.
report_exit() {
  local code=$1
  [ "$code" -ge 0 ] 2>/dev/null && [ "$code" -le 127 ] || code=127
  sync
  echo "E2E-GUEST-EXIT code=$code uptime=$(cut -d' ' -f1 /proc/uptime)"
  printf "\\$(printf '%03o' "$code")" | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc status=none
  # Only reached if the port write did not stop qemu: make the kernel reboot (-no-reboot ends qemu).
  echo b > /proc/sysrq-trigger
  sleep 10
}

stage2_fail() {
  echo "E2E-STEP-FAIL stage2: $*"
  report_exit 125
}

echo "E2E-STAGE2 init=${E2E_INIT:-bash} uptime=$(cut -d' ' -f1 /proc/uptime)"
# Under systemd (E2E_INIT=systemd, a service of PID 1) /dev/pts, /dev/shm,
# the /dev links and lo are already there; /var/tmp is not writable either way.
mkdir -p /dev/pts /dev/shm "$HOME"
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts || stage2_fail "mount devpts"
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm || stage2_fail "mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs /var/tmp || stage2_fail "mount /var/tmp"
[ -e /dev/fd ] || ln -sf /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -sf /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -sf /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -sf /proc/self/fd/2 /dev/stderr
ip link set lo up 2>/dev/null || busybox ip link set lo up || echo "E2E-WARN: lo not up"

# Host-provided settings: E2E_MODULES_BASE, E2E_REPLACE_MODULES ("name=/path.ko ...").
# shellcheck source=/dev/null
[ -f "$E2E_SHARE/.e2e/env" ] && . "$E2E_SHARE/.e2e/env"
export E2E_MODULES_BASE="${E2E_MODULES_BASE:-/}"

# Watchdog: the host kills qemu at its timeout; should the host be gone, the
# guest reboots itself a little later and -no-reboot ends qemu.
if [ -n "${E2E_WATCHDOG_S:-}" ]; then
  ( sleep "$E2E_WATCHDOG_S"; echo "E2E-WATCHDOG fired after ${E2E_WATCHDOG_S}s"; echo b > /proc/sysrq-trigger ) &
fi

# A replacement module goes in first, after the stock modules it depends on,
# so the later modprobe of the same name finds it loaded and does nothing.
for spec in ${E2E_REPLACE_MODULES:-}; do
  name=${spec%%=*}
  ko=${spec#*=}
  [ -f "$ko" ] || stage2_fail "replacement for $name not found in the guest: $ko"
  while read -r verb path _; do
    [ "$verb" = insmod ] || continue
    dep=$(basename "$path"); dep=${dep%%.ko*}
    [ "${dep//-/_}" = "${name//-/_}" ] && continue
    modprobe -d "$E2E_MODULES_BASE" "$dep" || stage2_fail "modprobe $dep (needed by replacement $name)"
  done < <(modprobe -d "$E2E_MODULES_BASE" --show-depends "$name")
  insmod "$ko" || stage2_fail "insmod replacement $ko"
  echo "$name=$ko" >> /run/e2e-replaced-modules
  echo "E2E-REPLACED-MODULE $name $ko"
done

modules_start=$(date +%s%N)
for m in configfs libcomposite usb_f_mass_storage dummy_hcd nbd usb-storage sd_mod sr_mod cdrom isofs loop; do
  modprobe -d "$E2E_MODULES_BASE" "$m" || stage2_fail "modprobe $m"
done
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config || stage2_fail "mount configfs"
echo "E2E-MODULES-LOADED ms=$(( ($(date +%s%N) - modules_start) / 1000000 ))"

# Forwarded ports (runInVm forwardTcp): the virtio NIC of qemu's user-mode
# network gets the address slirp forwards to. No udevd and no DHCP: the
# kernel's own interface name, found by its driver, and a static address.
if [ -n "${E2E_NET_ADDRESS:-}" ]; then
  modprobe -d "$E2E_MODULES_BASE" virtio_net || stage2_fail "modprobe virtio_net (the NIC for forwarded ports)"
  nic=""
  for _ in $(seq 100); do
    for dev in /sys/class/net/*; do
      [ "$(basename "$(readlink -f "$dev/device/driver" 2>/dev/null)")" = virtio_net ] && nic=$(basename "$dev")
    done
    [ -n "$nic" ] && break
    sleep 0.1
  done
  [ -n "$nic" ] || stage2_fail "no virtio_net interface appeared in /sys/class/net"
  ip addr add "$E2E_NET_ADDRESS" dev "$nic" || stage2_fail "ip addr add $E2E_NET_ADDRESS dev $nic"
  ip link set "$nic" up || stage2_fail "ip link set $nic up"
  echo "E2E-NET $nic $E2E_NET_ADDRESS"
fi

cd /tmp || stage2_fail "cd /tmp"
echo "E2E-SCRIPT-START uptime=$(cut -d' ' -f1 /proc/uptime)"
bash "$E2E_SHARE/.e2e/script.sh" </dev/null
code=$?
echo "E2E-SCRIPT-END code=$code"
report_exit "$code"
