# The virtual-media data path by hand (sourced by scenarios after lib.sh):
# image -> nbdkit (unix socket) -> nbd-client -> /dev/nbdN -> configfs mass
# storage gadget -> dummy_hcd -> usb-storage block device in the same VM.

GADGET_ROOT=/sys/kernel/config/usb_gadget

# nbd_attach IMAGE SOCKET NBDDEV: starts nbdkit and nbd-client as supervised
# children (foreground, no fork); sets NBDKIT_PID and NBD_CLIENT_PID.
nbd_attach() {
  local image=$1 socket=$2 nbd=$3
  nbdkit_start "$socket" file file="$image"
  nbd_client_start "$socket" "$nbd"
}

# nbdkit_start SOCKET NBDKIT_ARGS...: nbdkit in the foreground on SOCKET; sets NBDKIT_PID.
nbdkit_start() {
  local socket=$1; shift
  step "start nbdkit on $socket: $*"
  rm -f "$socket"
  nbdkit --foreground --unix "$socket" "$@" &
  NBDKIT_PID=$!
  on_exit "kill $NBDKIT_PID; wait $NBDKIT_PID"
  wait_for 30 "nbdkit socket $socket" test -S "$socket"
}

# nbd_client_start SOCKET NBDDEV: attaches NBDDEV; sets NBD_CLIENT_PID.
nbd_client_start() {
  local socket=$1 nbd=$2
  step "nbd-client $nbd"
  # 3.24: -unix takes the socket path; -n stays in the foreground; -L uses the
  # ioctl interface (no netlink), so the process lives as long as the device.
  nbd-client -unix "$socket" "$nbd" -b 512 -n -L &
  NBD_CLIENT_PID=$!
  on_exit "nbd-client -d $nbd; wait $NBD_CLIENT_PID"
  wait_for 30 "$nbd size > 0" nbd_has_size "$nbd"
}

nbd_has_size() { [ "$(cat "/sys/block/$(basename "$1")/size")" -gt 0 ]; }

# nbd_detach NBDDEV SOCKET: reverse of nbd_attach, verified.
nbd_detach() {
  local nbd=$1 socket=$2
  step "nbd-client -d $nbd"
  nbd-client -d "$nbd" >/dev/null || fail "nbd-client -d $nbd failed"
  wait_for 15 "nbd-client to exit" process_gone "$NBD_CLIENT_PID"
  wait "$NBD_CLIENT_PID" 2>/dev/null
  [ "$(cat "/sys/block/$(basename "$nbd")/size")" = 0 ] || fail "$nbd still has a size after disconnect"

  step "stop nbdkit"
  kill "$NBDKIT_PID" || fail "nbdkit already gone"
  wait_for 15 "nbdkit to exit" process_gone "$NBDKIT_PID"
  wait "$NBDKIT_PID" 2>/dev/null
  # nbdkit leaves its socket file behind; whoever restarts it must remove it.
  rm -f "$socket"
}

process_gone() { ! kill -0 "$1" 2>/dev/null; }

# gadget_create NAME BACKING_FILE CDROM(0|1) [RO(1|0)]: one gadget, one mass-storage LUN
# (read-only unless RO=0), bound to the dummy UDC.
gadget_create() {
  local name=$1 file=$2 cdrom=$3 ro=${4:-1}
  local g=$GADGET_ROOT/$name lun
  step "configfs gadget $name"
  [ -d "$GADGET_ROOT" ] || fail "$GADGET_ROOT missing (configfs/libcomposite not loaded?)"
  mkdir "$g" || fail "mkdir $g"
  on_exit "gadget_remove $name"
  echo 0x1d6b > "$g/idVendor"
  echo 0x0104 > "$g/idProduct"
  echo 0x0200 > "$g/bcdUSB"
  mkdir "$g/strings/0x409"
  echo "OpenBMC" > "$g/strings/0x409/manufacturer"
  echo "Virtual Media e2e" > "$g/strings/0x409/product"
  echo "e2e-$name" > "$g/strings/0x409/serialnumber"
  mkdir -p "$g/configs/c.1/strings/0x409"
  echo "Mass Storage" > "$g/configs/c.1/strings/0x409/configuration"
  mkdir "$g/functions/mass_storage.usb0"
  lun=$g/functions/mass_storage.usb0/lun.0
  echo 1 > "$lun/removable"
  # cdrom and ro must be set before file: the kernel refuses them (EBUSY) once a medium is open.
  echo "$cdrom" > "$lun/cdrom"
  echo "$ro" > "$lun/ro"
  step "lun.0 file=$file"
  echo "$file" > "$lun/file" || fail "writing lun.0/file"
  ln -s "$g/functions/mass_storage.usb0" "$g/configs/c.1/"

  step "bind gadget $name to a UDC"
  GADGET_UDC=$(ls /sys/class/udc | head -n 1)
  [ -n "$GADGET_UDC" ] || fail "no UDC in /sys/class/udc (dummy_hcd not loaded?)"
  echo "$GADGET_UDC" > "$g/UDC" || fail "writing UDC=$GADGET_UDC"
}

# gadget_remove NAME: UDC="" then link and directories in reverse order (lun.0 goes with its function).
gadget_remove() {
  local g=$GADGET_ROOT/$1
  [ -d "$g" ] || return 0
  # Writing "" to an unbound gadget fails with ENODEV, so only unbind a bound one.
  if [ -n "$(cat "$g/UDC")" ]; then echo "" > "$g/UDC"; fi
  rm -f "$g/configs/c.1/mass_storage.usb0"
  rmdir "$g/configs/c.1/strings/0x409" "$g/configs/c.1" "$g/functions/mass_storage.usb0" "$g/strings/0x409" "$g"
}

usb_device_present() { usb_block_device "$1" >/dev/null; }
usb_device_absent() { ! usb_block_device "$1" >/dev/null; }

# Media present: usb-storage has read the capacity.
block_has_size() { [ "$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)" -gt 0 ]; }

# wait_usb_medium sd|sr: waits until the gadget appears on the host side of
# dummy_hcd as a disk (sd) or CD-ROM (sr) with a medium and a device node,
# and sets USB_MEDIUM to its name (sda, sr0). A variable, not stdout, so that
# a timeout's `fail` ends the scenario instead of a command substitution.
wait_usb_medium() {
  local kind=$1 what="a USB disk (sd*)"
  [ "$kind" = sr ] && what="a CD-ROM (sr*)"
  wait_for 60 "$what under dummy_hcd" usb_device_present "$kind"
  USB_MEDIUM=$(usb_block_device "$kind")
  wait_for 30 "/dev/$USB_MEDIUM to report a medium" block_has_size "$USB_MEDIUM"
  wait_for 10 "/dev/$USB_MEDIUM node" test -b "/dev/$USB_MEDIUM"
}
