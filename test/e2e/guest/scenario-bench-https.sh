# Bench bench-https: streaming an image over HTTPS with added latency, the way
# Legacy HTTPS mounts do (nbdkit curl plugin -> nbd-client -> gadget -> USB
# disk), plain and with nbdkit filters. Latency: netem delays every packet on
# lo by E2E_BENCH_DELAY_MS (so a request/response round trip gets twice that);
# without sch_netem, nbdkit's delay filter adds the round trip per request.
# One whole-disk O_DIRECT read of the USB disk per variant.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"
. "$E2E_GUEST_DIR/datapath.sh"
. "$E2E_GUEST_DIR/https.sh"

size_mib=${E2E_BENCH_HTTPS_MIB:-32}
delay_ms=${E2E_BENCH_DELAY_MS:-20}
work=/tmp/e2e-bench-https
nbd=/dev/nbd5
gadget=bench_https
# name|nbdkit filters|curl plugin parameters (cache blocks live in $TMPDIR, a tmpfs here as on a BMC)
variants=${E2E_BENCH_HTTPS_VARIANTS:-"plain||
readahead|--filter=readahead|
cache4M|--filter=cache|cache-min-block-size=4M cache-on-read=true cache-max-size=64M
readahead+cache|--filter=readahead --filter=cache|cache-on-read=true cache-max-size=64M
readahead+cache4M|--filter=readahead --filter=cache|cache-min-block-size=4M cache-on-read=true cache-max-size=64M
cache4M-max16M|--filter=cache|cache-min-block-size=4M cache-on-read=true cache-max-size=16M"}

mkdir -p "$work/www"
on_exit "rm -rf $work"
step "create ${size_mib} MiB random image"
dd if=/dev/urandom of="$work/www/disk.img" bs=1M count="$size_mib" status=none
measure imageMiB "$size_mib"
make_test_ca "$work/tls"
start_https_server "$work/www" "$work/tls" --log-file "$work/requests.log"
url="https://localhost:$HTTPS_PORT/disk.img"

step "add ${delay_ms} ms delay on lo"
delay_filter=() delay_params=()
if command -v tc >/dev/null && modprobe -d "$E2E_MODULES_BASE" sch_netem 2>/dev/null \
   && tc qdisc add dev lo root netem delay "${delay_ms}ms"; then
  on_exit "tc qdisc del dev lo root"
  measure latency '"netem"'
else
  echo "E2E-WARN: no netem (iproute2 tc or sch_netem missing): nbdkit --filter=delay instead"
  measure latency '"nbdkit-delay-filter"'
  delay_filter=(--filter=delay)
  delay_params=(delay-read=$(( 2 * delay_ms ))ms)
fi
curl_rtt=$(curl -s -o /dev/null --cacert "$work/tls/ca.pem" -r 0-0 -w '%{time_connect}' "$url")
connect_ms=$(awk -v s="$curl_rtt" 'BEGIN { printf "%.1f", s * 1000 }')
measure tcpConnectMs "$connect_ms"
# A TCP connect is one round trip: with netem it must take at least twice the delay.
if [ -z "${delay_filter[*]}" ] && ! awk -v ms="$connect_ms" -v d="$delay_ms" 'BEGIN { exit !(ms >= 2 * d * 0.9) }'; then
  fail "TCP connect took ${connect_ms} ms: the ${delay_ms} ms netem delay is not in effect"
fi
image_sha=$(sha256sum "$work/www/disk.img" | cut -d' ' -f1)

while IFS='|' read -r name filters params; do
  [ -n "$name" ] || continue
  step "variant $name: nbdkit $filters curl $params"
  # shellcheck disable=SC2086 # filters and params are word lists
  nbdkit_start "$work/nbd.sock" --readonly $filters "${delay_filter[@]}" curl url="$url" cainfo="$work/tls/ca.pem" $params "${delay_params[@]}"
  nbd_client_start "$work/nbd.sock" "$nbd"
  gadget_create "$gadget" "$nbd" 0
  wait_usb_medium sd
  disk=$USB_MEDIUM
  requests_before=$(wc -l < "$work/requests.log")
  rate=$(read_rate_mib_s "/dev/$disk") || fail "reading /dev/$disk ($name)"
  requests=$(( $(wc -l < "$work/requests.log") - requests_before ))
  if [ "$name" != plain ]; then
    # The filters must not change the data: read it again (partly from nbdkit's cache) and compare.
    sync; echo 3 > /proc/sys/vm/drop_caches
    got=$(dd if="/dev/$disk" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
    [ "$got" = "$image_sha" ] || fail "variant $name: sha256 of /dev/$disk $got != image $image_sha"
  fi
  key=${name//+/_}
  measure "${key}MiBps" "$rate"
  measure "${key}HttpRequests" "$requests"
  echo "E2E-INFO https variant $name: $rate MiB/s, $requests HTTP requests"
  echo "" > "$GADGET_ROOT/$gadget/UDC"
  wait_for 30 "/dev/$disk to disappear" usb_device_absent sd
  gadget_remove "$gadget"
  nbd_detach "$nbd" "$work/nbd.sock"
done <<< "$variants"
