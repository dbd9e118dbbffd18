# Scenario lun-stats: the kernel patch's lun.0/stats really counts. A writable
# LUN (ro=0) over nbd: reading the whole USB disk raises read_commands and
# bytes_read (>= image size), a write raises write_commands and bytes_written
# and reaches the image, and re-opening the medium (file="" then file=dev)
# sets every counter back to 0. Needs the patched usb_f_mass_storage.ko.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"

size_mib=8
write_kib=1024
work=/tmp/e2e-lun-stats
nbd=/dev/nbd2
gadget=e2e_stats
lun=$GADGET_ROOT/$gadget/functions/mass_storage.usb0/lun.0

# stat_value NAME: one counter from lun.0/stats ("name value" lines).
stat_value() {
  local v
  v=$(awk -v k="$1" '$1 == k { print $2 }' "$lun/stats")
  [ -n "$v" ] || fail "no '$1' line in lun.0/stats: $(tr '\n' ' ' < "$lun/stats")"
  echo "$v"
}
stats_line() { tr '\n' ' ' < "$lun/stats"; }

step "create ${size_mib} MiB random image"
mkdir -p "$work"
on_exit "rm -rf $work"
dd if=/dev/urandom of="$work/disk.img" bs=1M count="$size_mib" status=none
image_bytes=$(stat -c %s "$work/disk.img")

nbd_attach "$work/disk.img" "$work/nbd.sock" "$nbd"
gadget_create "$gadget" "$nbd" 0 0
step "lun.0/stats exists (patched module)"
[ -r "$lun/stats" ] || fail "lun.0/stats missing: the running usb_f_mass_storage is not the patched module"

step "wait for the writable USB disk"
wait_usb_medium sd
disk=$USB_MEDIUM
[ "$(cat "/sys/block/$disk/ro")" = 0 ] || fail "/dev/$disk is read-only although lun.0/ro=0"
measure statsAfterAppear "$(json_str "$(stats_line)")"

step "read the whole /dev/$disk (O_DIRECT)"
sync; echo 3 > /proc/sys/vm/drop_caches
dd if="/dev/$disk" of=/dev/null bs=1M iflag=direct status=none
reads=$(stat_value read_commands)
bytes_read=$(stat_value bytes_read)
measure statsAfterRead "$(json_str "$(stats_line)")"
[ "$reads" -gt 0 ] || fail "read_commands is $reads after reading the whole disk"
[ "$bytes_read" -ge "$image_bytes" ] || fail "bytes_read $bytes_read < image size $image_bytes after reading the whole disk"
[ "$(stat_value io_errors)" = 0 ] || fail "io_errors $(stat_value io_errors) after a clean read"

step "write ${write_kib} KiB to /dev/$disk (O_DIRECT)"
writes_before=$(stat_value write_commands)
written_before=$(stat_value bytes_written)
dd if=/dev/urandom of="$work/payload" bs=1K count="$write_kib" status=none
dd if="$work/payload" of="/dev/$disk" bs=64K oflag=direct conv=fsync status=none
writes=$(stat_value write_commands)
written=$(stat_value bytes_written)
measure statsAfterWrite "$(json_str "$(stats_line)")"
[ "$writes" -gt "$writes_before" ] || fail "write_commands stayed at $writes after a write"
[ $(( written - written_before )) -ge $(( write_kib * 1024 )) ] \
  || fail "bytes_written grew by $(( written - written_before )), wrote $(( write_kib * 1024 ))"
step "the write reached the image through nbd"
cmp -s -n $(( write_kib * 1024 )) "$work/payload" "$work/disk.img" || fail "the image does not hold the written data"

step "re-open the medium: lun.0/file=\"\" then file=$nbd"
echo "" > "$lun/file" || fail "ejecting lun.0/file"
echo "$nbd" > "$lun/file" || fail "re-opening lun.0/file"
for k in read_commands write_commands bytes_read bytes_written io_errors; do
  [ "$(stat_value "$k")" = 0 ] || fail "$k is $(stat_value "$k") after re-opening the medium (want 0): $(stats_line)"
done
measure statsAfterReopen "$(json_str "$(stats_line)")"

step "counting goes on after the re-open"
# The host sees a medium change (unit attention) and re-reads the capacity first.
wait_for 30 "/dev/$disk to report a size after the medium change" block_has_size "$disk"
dd if="/dev/$disk" of=/dev/null bs=1M count=1 iflag=direct status=none || \
  dd if="/dev/$disk" of=/dev/null bs=1M count=1 iflag=direct status=none
[ "$(stat_value bytes_read)" -ge 1048576 ] || fail "bytes_read $(stat_value bytes_read) after reading 1 MiB past the re-open"

step "teardown"
echo "" > "$GADGET_ROOT/$gadget/UDC"
wait_for 30 "/dev/$disk to disappear" usb_device_absent sd
gadget_remove "$gadget"
nbd_detach "$nbd" "$work/nbd.sock"
