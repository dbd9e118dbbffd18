# Guest script of the reliability e2e test (a guest booted with systemd as
# PID 1 and the recipe's install laid over the root, as daemon-scenarios.sh):
# four UDCs, CIFS, netem, then guest/daemon/reliability/driver.ts runs the
# scenarios (E2E_RELIABILITY_SCENARIOS: a subset). Exit code = failed scenarios.
. "$E2E_GUEST_DIR/lib.sh"
writable_daemon_config
modprobe -d "$E2E_MODULES_BASE" cifs || echo "E2E-WARN: modprobe cifs failed"
modprobe -d "$E2E_MODULES_BASE" sch_netem || fail "modprobe sch_netem (the flaky-network scenarios need netem)"
# Four USB device controllers for four media at once: stage 2 loaded
# dummy_hcd with its default of one; nothing is bound to it yet.
rmmod dummy_hcd || fail "rmmod dummy_hcd"
modprobe -d "$E2E_MODULES_BASE" dummy_hcd num=4 || fail "modprobe dummy_hcd num=4"
[ "$(ls /sys/class/udc | wc -l)" -eq 4 ] || fail "expected 4 UDCs, found: $(ls /sys/class/udc)"
cd "$E2E_REPO" || exit 100
# The driver reads up to four USB devices at once while its own HTTPS server
# reads the image files that feed them: each read holds a libuv worker thread
# until the USB read returns, and libuv's default of 4 would leave none for
# the server (a deadlock that only times out).
export UV_THREADPOOL_SIZE=16
exec node --import tsx test/e2e/guest/daemon/reliability/driver.ts ${E2E_RELIABILITY_SCENARIOS:-}
