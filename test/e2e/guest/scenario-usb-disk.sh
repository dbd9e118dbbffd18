# Scenario usb-disk: a random image exported by nbdkit, attached with
# nbd-client, served by the mass-storage gadget through dummy_hcd, read back
# as a USB disk in the same VM; then torn down in reverse and checked gone.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"

size_mib=${E2E_IMAGE_MIB:-16}
work=/tmp/e2e-usb-disk
nbd=/dev/nbd0
gadget=e2e_disk

step "create ${size_mib} MiB random image"
mkdir -p "$work"
on_exit "rm -rf $work"
dd if=/dev/urandom of="$work/disk.img" bs=1M count="$size_mib" status=none
image_bytes=$(stat -c %s "$work/disk.img")
image_sha=$(sha256sum "$work/disk.img" | cut -d' ' -f1)
t0=$(now_ms)

nbd_attach "$work/disk.img" "$work/nbd.sock" "$nbd"
measure nbdAttachMs $(( $(now_ms) - t0 ))
[ "$(blockdev --getsize64 "$nbd")" = "$image_bytes" ] || fail "$nbd size $(blockdev --getsize64 "$nbd") != image $image_bytes"

t1=$(now_ms)
gadget_create "$gadget" "$nbd" 0
step "wait for the USB disk under dummy_hcd"
wait_usb_medium sd
disk=$USB_MEDIUM
measure usbDiskAppearMs $(( $(now_ms) - t1 ))
measure usbDisk "\"$disk\""
echo "E2E-INFO usb disk /dev/$disk at $(readlink -f "/sys/block/$disk/device")"

step "check /dev/$disk size"
disk_bytes=$(blockdev --getsize64 "/dev/$disk")
[ "$disk_bytes" = "$image_bytes" ] || fail "/dev/$disk has $disk_bytes bytes, image has $image_bytes"
[ "$(cat "/sys/block/$disk/ro")" = 1 ] || fail "/dev/$disk is not read-only although lun.0/ro=1"

step "read rates"
measure nbdReadMiBps "$(read_rate_mib_s "$nbd")"
measure usbReadMiBps "$(read_rate_mib_s "/dev/$disk")"

step "sha256 of /dev/$disk"
sync; echo 3 > /proc/sys/vm/drop_caches
disk_sha=$(sha256sum "/dev/$disk" | cut -d' ' -f1)
[ "$disk_sha" = "$image_sha" ] || fail "/dev/$disk sha256 $disk_sha != image $image_sha"

# A patched usb_f_mass_storage (replaceModules) may count I/O per LUN: record what it says.
stats=$GADGET_ROOT/$gadget/functions/mass_storage.usb0/lun.0/stats
if [ -r "$stats" ]; then
  measure lunStats "$(json_str "$(cat "$stats")")"
fi

t2=$(now_ms)
step "unbind gadget (UDC=\"\")"
echo "" > "$GADGET_ROOT/$gadget/UDC"
wait_for 30 "/dev/$disk to disappear" usb_device_absent sd
step "remove gadget from configfs"
gadget_remove "$gadget"
[ ! -e "$GADGET_ROOT/$gadget" ] || fail "gadget $gadget still in configfs"
nbd_detach "$nbd" "$work/nbd.sock"
measure teardownMs $(( $(now_ms) - t2 ))

step "verify all gone"
[ -z "$(ls "$GADGET_ROOT")" ] || fail "configfs still has gadgets: $(ls "$GADGET_ROOT")"
! usb_device_present sd || fail "a dummy_hcd disk is still there"
process_gone "$NBDKIT_PID" || fail "nbdkit still running"
process_gone "$NBD_CLIENT_PID" || fail "nbd-client still running"
[ "$(cat /sys/block/nbd0/size)" = 0 ] || fail "nbd0 still connected"
[ -n "$(ls /sys/class/udc)" ] || fail "the UDC vanished"
