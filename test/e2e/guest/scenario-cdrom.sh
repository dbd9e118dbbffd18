# Scenario cdrom: an ISO 9660 image (xorriso) with a known file, exported the
# same way but with lun.0/cdrom=1: the guest sees a USB CD-ROM (sr*), mounts it
# and reads the known file back.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"

work=/tmp/e2e-cdrom
nbd=/dev/nbd1
gadget=e2e_cdrom
known_text="virtual media e2e $(date +%s%N)"

step "build ISO with xorriso"
mkdir -p "$work/tree" "$work/mnt"
on_exit "umount $work/mnt; rm -rf $work"
echo "$known_text" > "$work/tree/hello.txt"
# cdrom emulation needs at least 300 blocks (600 KiB): add 1 MiB of filler.
dd if=/dev/urandom of="$work/tree/filler.bin" bs=1M count=1 status=none
filler_sha=$(sha256sum "$work/tree/filler.bin" | cut -d' ' -f1)
# -R (Rock Ridge) keeps the file names as written.
xorriso -as mkisofs -quiet -R -V E2E_CDROM -o "$work/cd.iso" "$work/tree" 2>/dev/null
iso_bytes=$(stat -c %s "$work/cd.iso")
measure isoBytes "$iso_bytes"

nbd_attach "$work/cd.iso" "$work/nbd.sock" "$nbd"
t1=$(now_ms)
gadget_create "$gadget" "$nbd" 1
step "wait for the USB CD-ROM under dummy_hcd"
wait_usb_medium sr
cd=$USB_MEDIUM
measure cdromAppearMs $(( $(now_ms) - t1 ))
measure cdrom "\"$cd\""
echo "E2E-INFO usb cdrom /dev/$cd at $(readlink -f "/sys/block/$cd/device")"

step "mount -t iso9660 /dev/$cd"
mount -t iso9660 -o ro "/dev/$cd" "$work/mnt"
step "read the known file"
[ -f "$work/mnt/hello.txt" ] || fail "hello.txt not on the mounted CD: $(ls "$work/mnt")"
[ "$(cat "$work/mnt/hello.txt")" = "$known_text" ] || fail "hello.txt content differs"
[ "$(sha256sum "$work/mnt/filler.bin" | cut -d' ' -f1)" = "$filler_sha" ] || fail "filler.bin content differs"
step "umount"
umount "$work/mnt"

step "unbind gadget (UDC=\"\")"
echo "" > "$GADGET_ROOT/$gadget/UDC"
wait_for 30 "/dev/$cd to disappear" usb_device_absent sr
step "remove gadget from configfs"
gadget_remove "$gadget"
nbd_detach "$nbd" "$work/nbd.sock"

step "verify all gone"
[ ! -e "$GADGET_ROOT/$gadget" ] || fail "gadget $gadget still in configfs"
! usb_device_present sr || fail "a dummy_hcd CD-ROM is still there"
process_gone "$NBDKIT_PID" || fail "nbdkit still running"
[ "$(cat /sys/block/nbd1/size)" = 0 ] || fail "nbd1 still connected"
