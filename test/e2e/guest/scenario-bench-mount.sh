# Bench bench-mount: how long the by-hand shell path takes from "mount" (start
# nbdkit) to the USB disk being visible with its size, for a local file and
# for an HTTPS image (nbdkit curl, no added delay). Phases: NBD device ready,
# gadget bound to the UDC, disk visible. The daemon's Mount -> Completion is
# compared to this. Medians of E2E_BENCH_ROUNDS runs each.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"
. "$E2E_GUEST_DIR/https.sh"

rounds=${E2E_BENCH_ROUNDS:-3}
work=/tmp/e2e-bench-mount
nbd=/dev/nbd4
gadget=bench_mount
export E2E_POLL_S=0.02

mkdir -p "$work/www"
on_exit "rm -rf $work"
step "create 16 MiB random image"
dd if=/dev/urandom of="$work/www/disk.img" bs=1M count=16 status=none
make_test_ca "$work/tls"
start_https_server "$work/www" "$work/tls"

# mount_once KIND: one by-hand mount and teardown; sets T_NBD T_GADGET T_VISIBLE (ms from start).
mount_once() {
  local kind=$1 t0 t_nbd t_gadget t_visible disk
  t0=$(now_ms)
  case "$kind" in
    file) nbdkit_start "$work/nbd.sock" file file="$work/www/disk.img" ;;
    https) nbdkit_start "$work/nbd.sock" --readonly curl url="https://localhost:$HTTPS_PORT/disk.img" cainfo="$work/tls/ca.pem" ;;
  esac
  nbd_client_start "$work/nbd.sock" "$nbd"
  t_nbd=$(now_ms)
  gadget_create "$gadget" "$nbd" 0
  t_gadget=$(now_ms)
  wait_usb_medium sd
  disk=$USB_MEDIUM
  t_visible=$(now_ms)
  echo "" > "$GADGET_ROOT/$gadget/UDC"
  wait_for 30 "/dev/$disk to disappear" usb_device_absent sd
  gadget_remove "$gadget"
  nbd_detach "$nbd" "$work/nbd.sock"
  T_NBD=$(( t_nbd - t0 )) T_GADGET=$(( t_gadget - t0 )) T_VISIBLE=$(( t_visible - t0 ))
}

for kind in file https; do
  nbd_ms=() gadget_ms=() visible_ms=()
  for round in $(seq "$rounds"); do
    step "by-hand mount of a $kind image, round $round"
    mount_once "$kind"
    nbd_ms+=("$T_NBD") gadget_ms+=("$T_GADGET") visible_ms+=("$T_VISIBLE")
  done
  measure "${kind}NbdReadyMs" "$(median "${nbd_ms[@]}")"
  measure "${kind}GadgetBoundMs" "$(median "${gadget_ms[@]}")"
  measure "${kind}UsbDiskVisibleMs" "$(median "${visible_ms[@]}")"
  measure "${kind}UsbDiskVisibleRounds" "$(json_array "${visible_ms[@]}")"
done
