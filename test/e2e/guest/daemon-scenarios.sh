# Guest script of the daemon e2e test, in a guest booted with systemd as PID 1
# and the recipe's install laid over the root (runInVm installRoot): the
# system bus is Debian's dbus-daemon started by systemd, with the installed
# D-Bus policy; the TS driver (guest/daemon/driver.ts) has systemd start the
# installed daemon from the layer's unit and runs every scenario, writing one
# result line each. Exit code = failed scenarios.
. "$E2E_GUEST_DIR/lib.sh"
writable_daemon_config
# The SMB scenario mounts with the kernel CIFS client.
modprobe -d "$E2E_MODULES_BASE" cifs || echo "E2E-WARN: modprobe cifs failed"
cd "$E2E_REPO" || exit 100
exec node --import tsx test/e2e/guest/daemon/driver.ts ${E2E_DAEMON_SCENARIOS:-}
