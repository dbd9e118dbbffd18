# Helpers for the e2e guest scenarios (bash, sourced). A scenario is a bash
# script run by run_scenario; it calls `step` before each action so a failure
# names the step, `fail` to stop with a reason, `measure` to add numbers to
# its result line, and `on_exit` to register cleanup.

E2E_RESULTS="${E2E_SHARE:?}/results.jsonl"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# JSON string with the characters that matter escaped.
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/}
  printf '"%s"' "$s"
}

step() {
  echo "$*" > "${E2E_STEP_FILE:-/dev/null}"
  echo "E2E-STEP ${E2E_SCENARIO:-}: $*"
}

fail() {
  echo "$(cat "${E2E_STEP_FILE:-/dev/null}" 2>/dev/null): $*" > "${E2E_STEP_FILE:-/dev/null}"
  echo "E2E-FAIL ${E2E_SCENARIO:-}: $*"
  exit 1
}

# measure KEY VALUE: a number (or a JSON literal) to put into this scenario's result.
measure() {
  echo "E2E-MEASURE ${E2E_SCENARIO:-}: $1=$2"
  printf '%s:%s\n' "$(json_str "$1")" "$2" >> "${E2E_MEASURE_FILE:-/dev/null}"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every E2E_POLL_S (0.1 s) until COMMAND succeeds.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(now_ms) + seconds * 1000 ))
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
    sleep "${E2E_POLL_S:-0.1}"
  done
}

# median N...: the middle value (lower middle for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# json_array N...: [N,N,...] of numbers.
json_array() { local IFS=,; printf '[%s]' "$*"; }

# Cleanup actions run in reverse order when the scenario exits, pass or fail.
E2E_CLEANUP=()
on_exit() { E2E_CLEANUP=("$*" "${E2E_CLEANUP[@]}"); }
run_cleanup() {
  local action
  for action in "${E2E_CLEANUP[@]}"; do eval "$action" >/dev/null 2>&1 || true; done
  E2E_CLEANUP=()
}

# Inside a scenario (not in the runner) cleanup runs on any exit. Registered
# actions must be harmless when the explicit teardown already did the work.
[ -n "${E2E_SCENARIO:-}" ] && trap run_cleanup EXIT

# run_scenario NAME SCRIPT [ARGS...]: runs SCRIPT in its own bash and appends
# {"scenario","pass","reason","durationMs",...measures} to results.jsonl.
run_scenario() {
  local name=$1 script=$2; shift 2
  local state=/tmp/e2e-scenario-$name
  rm -rf "$state" && mkdir -p "$state"
  local start; start=$(now_ms)
  echo "E2E-SCENARIO-START $name"
  # stderr goes to the console and to a file: its last line joins the reason.
  E2E_SCENARIO=$name E2E_STEP_FILE=$state/step E2E_MEASURE_FILE=$state/measures \
    bash "$script" "$@" 2> >(tee "$state/stderr" >&2)
  local rc=$?
  sleep 0.1 # let tee flush
  local duration=$(( $(now_ms) - start ))
  local pass=true reason=""
  if [ "$rc" -ne 0 ]; then
    pass=false
    reason="step failed: $(cat "$state/step" 2>/dev/null || echo '?') (exit $rc)"
    local last_err; last_err=$(grep -v '^+' "$state/stderr" 2>/dev/null | tail -n 1)
    [ -z "$last_err" ] || reason="$reason; stderr: $last_err"
  fi
  local extra=""
  [ -s "$state/measures" ] && extra=",$(paste -sd, "$state/measures")"
  printf '{"scenario":%s,"pass":%s,"reason":%s,"durationMs":%s%s}\n' \
    "$(json_str "$name")" "$pass" "$(json_str "$reason")" "$duration" "$extra" >> "$E2E_RESULTS"
  echo "E2E-SCENARIO-END $name pass=$pass ${reason}"
  [ "$rc" -eq 0 ]
}

# The block device (sdX/srX) that usb-storage made for the dummy_hcd gadget.
usb_block_device() {
  local prefix=$1 dev
  for dev in /sys/block/"$prefix"*; do
    [ -e "$dev/device" ] || continue
    case "$(readlink -f "$dev/device")" in
      */dummy_hcd.*) basename "$dev"; return 0 ;;
    esac
  done
  return 1
}

# MiB/s for reading a whole block device with O_DIRECT, page cache dropped first.
read_rate_mib_s() {
  local dev=$1 bytes start end
  bytes=$(blockdev --getsize64 "$dev")
  sync; echo 3 > /proc/sys/vm/drop_caches
  start=$(date +%s%N)
  dd if="$dev" of=/dev/null bs=1M iflag=direct status=none || return 1
  end=$(date +%s%N)
  awk -v b="$bytes" -v ns=$(( end - start )) 'BEGIN { printf "%.1f", (b / 1048576) / (ns / 1e9) }'
}

# A system D-Bus in the guest (the host's dbus package and config; /run is tmpfs).
# start_system_bus [POLICY.conf...]: extra policy files (e.g. the layer's
# xyz.openbmc_project.VirtualMedia.conf, which system.d on the read-only root
# lacks) are included after Debian's system.conf.
start_system_bus() {
  [ -S /run/dbus/system_bus_socket ] && return 0
  mkdir -p /run/dbus
  local config=(--system) policy
  if [ $# -gt 0 ]; then
    {
      echo '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">'
      echo '<busconfig>'
      echo '  <include>/usr/share/dbus-1/system.conf</include>'
      for policy in "$@"; do echo "  <include>$policy</include>"; done
      echo '</busconfig>'
    } > /run/dbus/e2e-system.conf
    config=(--config-file=/run/dbus/e2e-system.conf)
  fi
  dbus-daemon "${config[@]}" --fork >/dev/null || fail "dbus-daemon ${config[*]} did not start"
  wait_for 10 "the system bus socket" test -S /run/dbus/system_bus_socket
}

# The daemon as the image runs it (a guest booted with runInVm's installRoot):
# systemd is PID 1 and the unit reads /etc/virtual-media/config.json, on the
# read-only root. A tmpfs over that directory, holding the installed file,
# lets a scenario write its own config there and restart the unit.
writable_daemon_config() {
  local dir=/etc/virtual-media
  [ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd: boot the guest with runInVm's installRoot"
  [ -f "$dir/config.json" ] || fail "$dir/config.json is not installed"
  cp "$dir/config.json" /run/e2e-installed-config.json || fail "copy the installed config"
  mount -t tmpfs -o mode=0755,size=1m tmpfs "$dir" || fail "tmpfs on $dir"
  cp /run/e2e-installed-config.json "$dir/config.json" || fail "restore the installed config"
}
