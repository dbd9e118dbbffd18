# Guest script of the daemon e2e test: a system bus with the layer's D-Bus
# policy, then the TS driver (guest/daemon/driver.ts) runs the daemon and
# every scenario, writing one result line each. Exit code = failed scenarios.
. "$E2E_GUEST_DIR/lib.sh"
policy="$E2E_REPO/meta-virtual-media/recipes-bmc/virtual-media/files/xyz.openbmc_project.VirtualMedia.conf"
start_system_bus "$policy"
# The SMB scenario mounts with the kernel CIFS client.
modprobe -d "$E2E_MODULES_BASE" cifs || echo "E2E-WARN: modprobe cifs failed"
cd "$E2E_REPO" || exit 100
exec node --import tsx test/e2e/guest/daemon/driver.ts ${E2E_DAEMON_SCENARIOS:-}
