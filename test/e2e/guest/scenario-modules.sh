# Scenario modules: every module the data path needs is loaded, and each
# replacement .ko given by the host is the one running (same build-id).
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"

step "data-path modules loaded"
for m in configfs libcomposite usb_f_mass_storage dummy_hcd nbd usb_storage sd_mod sr_mod isofs; do
  [ -d "/sys/module/$m" ] || fail "module $m not loaded"
done
mountpoint -q /sys/kernel/config || fail "configfs not mounted at /sys/kernel/config"
[ -n "$(ls /sys/class/udc)" ] || fail "no UDC in /sys/class/udc"
measure udc "\"$(ls /sys/class/udc | head -n 1)\""

replaced=0
for spec in ${E2E_REPLACE_MODULES:-}; do
  name=${spec%%=*}
  ko=${spec#*=}
  step "replacement $name is the running module"
  grep -qx "$name=$ko" /run/e2e-replaced-modules || fail "stage 2 did not insmod $ko"
  # Debian's modules carry no srcversion; the GNU build-id note identifies the build.
  command -v objcopy >/dev/null || fail "objcopy missing: install the Debian package 'binutils'"
  objcopy -O binary --only-section=.note.gnu.build-id "$ko" /tmp/e2e-want-build-id
  cmp -s /tmp/e2e-want-build-id "/sys/module/${name//-/_}/notes/.note.gnu.build-id" \
    || fail "the running $name is not the build in $ko (build-id differs)"
  replaced=$((replaced + 1))
done
measure replacedModules "$replaced"
