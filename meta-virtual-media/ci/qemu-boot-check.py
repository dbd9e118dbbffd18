#!/usr/bin/env python3
"""Boot an OpenBMC flash image in qemu-system-arm -M ast2600-evb and check that
the virtual media service comes up and owns its bus name.

Usage: qemu-boot-check.py IMAGE.static.mtd [--timeout SECONDS]

Exit status 0 when xyz.openbmc_project.VirtualMedia.service is active and
xyz.openbmc_project.VirtualMedia has an owner on the system bus; 1 otherwise.
The serial console is copied to stdout so a failure can be read in the CI log.
qemu has no model of the ASPEED USB virtual hub's gadget side that a host
could see, so this checks start-up only, not the data path.
"""

import argparse
import os
import selectors
import subprocess
import sys
import time

SERVICE = "xyz.openbmc_project.VirtualMedia.service"
BUS_NAME = "xyz.openbmc_project.VirtualMedia"
# OpenBMC's default root password (debug images, allow-root-login).
ROOT_PASSWORD = "0penBmc"

# Polls for up to two minutes after login: Node starts slowly under TCG.
CHECK = (
    "for i in $(seq 24); do s=$(systemctl is-active " + SERVICE + "); "
    '[ "$s" = active ] && break; sleep 5; done; '
    # The quotes split the markers so that the console's echo of this command
    # line cannot match them; only the output can.
    'echo "VM-""STATE=$s"; '
    "busctl status " + BUS_NAME + ' >/dev/null 2>&1 && echo "VM-""BUS=owned" || echo "VM-""BUS=missing"; '
    'echo "VM-""DONE"; '

    "systemctl status --no-pager " + SERVICE + " | tail -n 20; "
    "journalctl --no-pager -u " + SERVICE + " | tail -n 40\n"
)


class Console:
    def __init__(self, image: str):
        self.proc = subprocess.Popen(
            [
                "qemu-system-arm",
                "-M", "ast2600-evb",
                "-m", "1G",
                "-nographic",
                "-drive", f"file={image},if=mtd,format=raw,snapshot=on",
                "-net", "nic",
                "-net", "user",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.seen = b""
        self.closed = False

    def _read_once(self) -> bool:
        """Reads what the console has within a second; False once it is closed."""
        for _key, _ in self.selector.select(timeout=1):
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                self.closed = True
                return False
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            self.seen += chunk
        return True

    def _alive(self, deadline: float) -> bool:
        return time.monotonic() < deadline and not self.closed

    def expect(self, marker: bytes, deadline: float) -> bool:
        """Waits for marker on the console and drops everything up to it."""
        while marker not in self.seen:
            if not self._alive(deadline):
                return False
            self._read_once()
        self.seen = self.seen[self.seen.index(marker) + len(marker):]
        return True

    def line_after(self, marker: bytes, deadline: float) -> str:
        """The rest of the console line that follows marker."""
        if not self.expect(marker, deadline):
            return ""
        while b"\n" not in self.seen and self._alive(deadline):
            self._read_once()
        return self.seen.split(b"\n", 1)[0].decode(errors="replace").strip()

    def send(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for the whole check")
    args = parser.parse_args()
    if not os.path.isfile(args.image):
        print(f"qemu-boot-check: no image at {args.image}", file=sys.stderr)
        return 1

    deadline = time.monotonic() + args.timeout
    console = Console(args.image)
    try:
        if not console.expect(b"login:", deadline):
            print("\nqemu-boot-check: no login prompt", file=sys.stderr)
            return 1
        console.send("root\n")
        if not console.expect(b"Password:", deadline):
            print("\nqemu-boot-check: no password prompt", file=sys.stderr)
            return 1
        console.send(ROOT_PASSWORD + "\n")
        if not console.expect(b"# ", deadline):
            print("\nqemu-boot-check: no shell prompt after login", file=sys.stderr)
            return 1
        console.send(CHECK)
        state = console.line_after(b"VM-STATE=", deadline)
        bus = console.line_after(b"VM-BUS=", deadline)
        console.expect(b"VM-DONE", deadline)
        state_ok = state == "active"
        bus_ok = bus == "owned"
        if state_ok and bus_ok:
            print(f"\nqemu-boot-check: {SERVICE} is active and owns {BUS_NAME}")
            return 0
        print(f"\nqemu-boot-check: {SERVICE} did not start (state={state!r}, bus name={bus!r})", file=sys.stderr)
        return 1
    finally:
        console.close()


if __name__ == "__main__":
    sys.exit(main())
