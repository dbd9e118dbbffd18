# The guest script of the data-path test: every scenario in one boot. Exit
# code = number of failed scenarios; the details are in results.jsonl.
. "$E2E_GUEST_DIR/lib.sh"
failed=0
for scenario in ${E2E_SCENARIOS:-modules usb-disk cdrom node-startup}; do
  run_scenario "$scenario" "$E2E_GUEST_DIR/scenario-$scenario.sh" || failed=$((failed + 1))
done
exit "$failed"
