#!/usr/bin/python3
"""xyz.openbmc_project.State.Host served the way an sdbus++ server (e.g.
phosphor-state-manager) serves it, with python3-dbus (libdbus): a server that
is not ours, for the consumer test of the installed packages.

Like sdbus++, it reads the interface from the phosphor-dbus-interfaces YAML
(the path is the first argument): enums travel as full strings
"<interface>.<Enum>.<Value>", Set of an unknown string is
xyz.openbmc_project.sdbusplus.Error.InvalidEnumString, changes are announced
with one PropertiesChanged, const properties are not settable.

Behaviour a client can drive:
  Set RequestedHostTransition On  -> CurrentHostState Running (announced)
  Set RequestedHostTransition Off -> CurrentHostState Off (announced)
  Set RequestedHostTransition ForceWarmReboot -> the declared error
      xyz.openbmc_project.State.Host.Error.BMCNotReady, nothing changes
  net.example.HostTest.EmitNewer() -> one PropertiesChanged with a
      CurrentHostState value this YAML does not have (as a newer server
      would send) next to a valid RestartCause change.
  net.example.HostTest.Reverse(h) -> h: reads the fd it is given to the
      end, answers with the read end of a new pipe holding those bytes
      reversed (fds both ways, as libdbus passes them).

Usage: host-service.py BUS_ADDRESS HOST_YAML. Prints "ready" once the name is owned.
"""
import os
import sys

try:
    import dbus
    import dbus.service
    import dbus.mainloop.glib
    from gi.repository import GLib
    import yaml
except ImportError as e:
    print(f"fatal: {e}: apt-get install python3-dbus python3-gi python3-yaml", flush=True)
    sys.exit(3)

IFACE = "xyz.openbmc_project.State.Host"
PROPS = "org.freedesktop.DBus.Properties"
SERVICE = "xyz.openbmc_project.State.Host"
PATH = "/xyz/openbmc_project/state/host0"


class DBusError(dbus.DBusException):
    def __init__(self, name, message):
        super().__init__(message)
        self._dbus_error_name = name


class Host(dbus.service.Object):
    def __init__(self, bus, spec):
        super().__init__(bus, PATH)
        self.enums = {e["name"]: [v["name"] for v in e["values"]] for e in spec["enumerations"]}
        self.flags = {p["name"]: p.get("flags", []) for p in spec["properties"]}
        self.values = {
            "RequestedHostTransition": self.wire("Transition", "Off"),
            "AllowedHostTransitions": dbus.Array([self.wire("Transition", v) for v in ("Off", "On")], signature="s"),
            "CurrentHostState": self.wire("HostState", "Off"),
            "RestartCause": self.wire("RestartCause", "Unknown"),
        }

    def wire(self, enum, value):
        if value not in self.enums[enum]:
            raise ValueError(f"{value} is not in {enum}")
        return dbus.String(f"{IFACE}.{enum}.{value}")

    def decode(self, enum, text):
        prefix = f"{IFACE}.{enum}."
        if not text.startswith(prefix) or text[len(prefix):] not in self.enums[enum]:
            raise DBusError("xyz.openbmc_project.sdbusplus.Error.InvalidEnumString", "An invalid enum string was decoded.")
        return text[len(prefix):]

    def change(self, **values):
        self.values.update(values)
        self.PropertiesChanged(IFACE, dbus.Dictionary(values, signature="sv"), dbus.Array([], signature="s"))

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        if interface != IFACE or name not in self.values:
            raise DBusError("org.freedesktop.DBus.Error.UnknownProperty", f"Unknown property {name}")
        return self.values[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != IFACE:
            raise DBusError("org.freedesktop.DBus.Error.UnknownInterface", f"Unknown interface {interface}")
        return dbus.Dictionary(self.values, signature="sv")

    @dbus.service.method(PROPS, in_signature="ssv", out_signature="")
    def Set(self, interface, name, value):
        if interface != IFACE or name not in self.values:
            raise DBusError("org.freedesktop.DBus.Error.UnknownProperty", f"Unknown property {name}")
        if "const" in self.flags[name] or "readonly" in self.flags[name]:
            raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly", f"Property {name} is read-only")
        if name != "RequestedHostTransition":
            raise DBusError("org.freedesktop.DBus.Error.InvalidArgs", f"{name} is not handled here")
        transition = self.decode("Transition", str(value))
        if transition == "ForceWarmReboot":
            raise DBusError(f"{IFACE}.Error.BMCNotReady", "The BMC is not ready for a warm reboot.")
        state = "Running" if transition == "On" else "Off"
        self.change(RequestedHostTransition=self.wire("Transition", transition), CurrentHostState=self.wire("HostState", state))

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    @dbus.service.method("net.example.HostTest", in_signature="", out_signature="")
    def EmitNewer(self):
        # A state a newer YAML added, next to a valid change, in one signal.
        self.change(CurrentHostState=dbus.String(f"{IFACE}.HostState.Hibernating"), RestartCause=self.wire("RestartCause", "PowerButton"))

    @dbus.service.method("net.example.HostTest", in_signature="h", out_signature="h")
    def Reverse(self, fd):
        with os.fdopen(fd.take(), "rb") as given:
            data = given.read()
        r, w = os.pipe()
        os.write(w, data[::-1])
        os.close(w)
        answer = dbus.types.UnixFd(r)  # a duplicate: libdbus sends and closes it
        os.close(r)
        return answer


def main():
    address, yaml_path = sys.argv[1], sys.argv[2]
    with open(yaml_path) as f:
        spec = yaml.safe_load(f)
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    Host(bus, spec)
    name = dbus.service.BusName(SERVICE, bus)  # noqa: F841 (kept alive)
    print("ready", flush=True)
    loop = GLib.MainLoop()
    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_HUP | GLib.IO_IN, lambda *_: loop.quit() or False)
    loop.run()


if __name__ == "__main__":
    main()
