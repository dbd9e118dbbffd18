# Bench bench-read: sequential read rate of the hand-built path with default
# settings (nbdkit file plugin -> nbd-client -> gadget -> USB disk) against the
# raw /dev/nbdN under it. Rounds alternate so drift hits both alike; medians.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"

size_mib=${E2E_BENCH_READ_MIB:-64}
rounds=${E2E_BENCH_ROUNDS:-3}
work=/tmp/e2e-bench-read
nbd=/dev/nbd3
gadget=bench_read

step "create ${size_mib} MiB random image"
mkdir -p "$work"
on_exit "rm -rf $work"
dd if=/dev/urandom of="$work/disk.img" bs=1M count="$size_mib" status=none
measure imageMiB "$size_mib"

nbd_attach "$work/disk.img" "$work/nbd.sock" "$nbd"
gadget_create "$gadget" "$nbd" 0
wait_usb_medium sd
disk=$USB_MEDIUM

nbd_rates=() usb_rates=()
for round in $(seq "$rounds"); do
  step "read round $round: $nbd then /dev/$disk"
  nbd_rates+=("$(read_rate_mib_s "$nbd")")
  usb_rates+=("$(read_rate_mib_s "/dev/$disk")")
done
measure nbdReadMiBps "$(median "${nbd_rates[@]}")"
measure usbReadMiBps "$(median "${usb_rates[@]}")"
measure nbdReadRounds "$(json_array "${nbd_rates[@]}")"
measure usbReadRounds "$(json_array "${usb_rates[@]}")"
measure readAheadKb "$(cat "/sys/block/$(basename "$nbd")/queue/read_ahead_kb")"

step "teardown"
echo "" > "$GADGET_ROOT/$gadget/UDC"
wait_for 30 "/dev/$disk to disappear" usb_device_absent sd
gadget_remove "$gadget"
nbd_detach "$nbd" "$work/nbd.sock"
