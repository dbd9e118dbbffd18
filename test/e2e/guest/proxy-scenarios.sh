# Guest script of the proxy-mode e2e test (test/e2e/proxy.test.ts), in a
# guest booted with systemd as PID 1 and the recipe's install laid over the
# root (runInVm installRoot): guest/proxy/driver.ts has systemd start the
# installed daemon, puts the fake bmcweb in front of its proxy socket and
# runs each scenario. Exit code = failed scenarios.
. "$E2E_GUEST_DIR/lib.sh"
writable_daemon_config
cd "$E2E_REPO" || exit 100
exec node --import tsx test/e2e/guest/proxy/driver.ts ${E2E_PROXY_SCENARIOS:-}
