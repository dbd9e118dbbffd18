#!/usr/bin/python3
"""bmcweb's side of the virtual-media conversation, replayed with python3-dbus
(libdbus), a D-Bus client that is not ours. What it sends follows bmcweb at
7debb8928f (redfish-core/lib/virtual_media.hpp, features/virtual_media/
vm_websocket.hpp, include/credential_pipe.hpp) as FACTS.md section 1 records
it: the mapper look-up, GetManagedObjects, Legacy.Mount with signature sbh and
a credentials pipe written after the call is sent, Unmount, and the proxy
websocket sequence. Also hostile callers: fds attached to every kind of
message.

Driven by one JSON request per line on stdin; one JSON reply per line on
stdout: {"ok": ...} or {"error": "<D-Bus error name>", "message": ...}.
Usage: bmcweb.py BUS_ADDRESS
"""
import json
import os
import socket
import sys
import threading
import xml.etree.ElementTree as ET

try:
    import dbus
    import dbus.lowlevel
except ImportError:
    print(json.dumps({"fatal": "python3-dbus is missing: apt-get install python3-dbus"}), flush=True)
    sys.exit(3)

SERVICE = "xyz.openbmc_project.VirtualMedia"
ROOT = "/xyz/openbmc_project/VirtualMedia"
VM = "xyz.openbmc_project.VirtualMedia"
TIMEOUT = 25.0  # sd-bus' default method timeout, which bmcweb uses

SIGNATURE_OF = {
    dbus.String: "s", dbus.Boolean: "b", dbus.Byte: "y", dbus.Int16: "n", dbus.UInt16: "q",
    dbus.Int32: "i", dbus.UInt32: "u", dbus.Int64: "x", dbus.UInt64: "t", dbus.Double: "d",
    dbus.ObjectPath: "o", dbus.Signature: "g",
}


def typed(value):
    """A property value as [D-Bus type, JSON value]: what bmcweb's std::get_if sees."""
    sig = SIGNATURE_OF.get(type(value), type(value).__name__)
    if sig == "b":
        return [sig, bool(value)]
    if sig in ("y", "n", "q", "i", "u", "x", "t"):
        return [sig, int(value)]
    if sig == "d":
        return [sig, float(value)]
    return [sig, str(value)]


class CallError(Exception):
    def __init__(self, name, message):
        super().__init__(message)
        self.name = name


class Bmcweb:
    def __init__(self, address):
        self.bus = dbus.bus.BusConnection(address)
        self.websockets = {}

    def call(self, path, interface, member, signature="", args=(), service=SERVICE):
        msg = dbus.lowlevel.MethodCallMessage(service, path, interface, member)
        if signature:
            msg.append(*args, signature=signature)
        reply = self.bus.send_message_with_reply_and_block(msg, TIMEOUT)
        return reply.get_args_list()

    # -- discovery, as phosphor-objectmapper and bmcweb do it -----------------

    def walk(self, service=SERVICE):
        """The mapper's introspection walk: from / down, interfaces per path."""
        found = {}

        def visit(path):
            xml = self.bus.call_blocking(service, path, "org.freedesktop.DBus.Introspectable", "Introspect", "", [], timeout=TIMEOUT)
            node = ET.fromstring(xml)
            interfaces = sorted(i.get("name") for i in node.findall("interface"))
            found[path] = interfaces
            for child in node.findall("node"):
                name = child.get("name")
                visit(path.rstrip("/") + "/" + name)

        visit("/")
        return found

    def get_object(self, path):
        """ObjectMapper.GetObject(path, []): the services with interfaces at path."""
        tree = self.walk()
        return {SERVICE: tree[path]} if tree.get(path) else {}

    def managed(self):
        """bmcweb: GetObject for the root, first service, then GetManagedObjects there."""
        services = self.get_object(ROOT)
        service = sorted(services)[0]
        objects = self.bus.call_blocking(service, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", [], timeout=TIMEOUT)
        return {str(p): {str(i): {str(k): typed(v) for k, v in props.items()} for i, props in ifaces.items()} for p, ifaces in objects.items()}

    # -- InsertMedia / EjectMedia ----------------------------------------------

    def insert(self, id, url, rw, user="", password="", raw_hex=None, keep_open=False, signature="sbh"):
        """Redfish InsertMedia: Legacy.Mount(url, rw, pipe) with the secret written after the call went out."""
        payload = bytes.fromhex(raw_hex) if raw_hex is not None else user.encode() + b"\0" + password.encode() + b"\0"
        read_end, write_end = os.pipe()
        msg = dbus.lowlevel.MethodCallMessage(SERVICE, f"{ROOT}/Legacy/{id}", f"{VM}.Legacy", "Mount")
        fd = dbus.types.UnixFd(read_end)  # dbus-python keeps its own copy
        os.close(read_end)
        if signature == "sbh":
            msg.append(url, dbus.Boolean(rw), fd, signature="sbh")
        else:
            msg.append(url, dbus.Boolean(rw), fd, signature="sbv")
        result = {}

        def send():
            try:
                reply = self.bus.send_message_with_reply_and_block(msg, TIMEOUT)
                result["ok"] = bool(reply.get_args_list()[0])
            except dbus.DBusException as e:
                result["error"] = e.get_dbus_name()
                result["message"] = e.get_dbus_message()

        caller = threading.Thread(target=send)
        caller.start()
        # bmcweb: async_write of the secret, then the write end is closed.
        os.write(write_end, payload)
        if not keep_open:
            os.close(write_end)
        caller.join()
        if keep_open:
            os.close(write_end)
        if "error" in result:
            raise CallError(result["error"], result["message"])
        return result["ok"]

    def insert_no_fd(self, id, url, rw):
        """The YAML's sbv form with the integer -1 (no credentials)."""
        return bool(self.call(f"{ROOT}/Legacy/{id}", f"{VM}.Legacy", "Mount", "sbv", [url, dbus.Boolean(rw), dbus.Int32(-1, variant_level=1)])[0])

    def eject(self, kind, id):
        return bool(self.call(f"{ROOT}/{kind}/{id}", f"{VM}.{kind}", "Unmount")[0])

    # -- the /nbd/<id> websocket (proxy mode) -----------------------------------

    def ws_open(self, id, browser):
        """A websocket connects: bmcweb reads the mount point, listens on its socket, then Proxy.Mount()."""
        path = f"{ROOT}/Proxy/{id}"
        props = self.call(path, "org.freedesktop.DBus.Properties", "GetAll", "s", [f"{VM}.MountPoint"])[0]
        endpoint, sock_path = props["EndpointId"], props["Socket"]
        if not isinstance(endpoint, dbus.String) or not isinstance(sock_path, dbus.String):
            raise RuntimeError("EndpointId or Socket is not a string")
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sock_path))
        listener.listen(1)
        ws = {"listener": listener, "socket": str(sock_path), "peers": [], "closed": False}
        self.websockets[id] = ws

        def accept():
            try:
                peer, _ = listener.accept()
            except OSError:
                return  # the websocket closed first
            ws["peers"].append(peer)
            if browser:
                # The websocket side: here a local NBD server stands in for the browser.
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.connect(browser)
                ws["peers"].append(upstream)
                threading.Thread(target=pump, args=(peer, upstream), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, peer), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        try:
            mounted = bool(self.call(path, f"{VM}.Proxy", "Mount")[0])
        except dbus.DBusException as e:
            self.ws_close(id, unmount=False)
            raise e
        return {"endpoint": str(endpoint), "socket": str(sock_path), "mounted": mounted}

    def ws_close(self, id, unmount=True):
        """The websocket closes: close the peer, remove the socket, then Proxy.Unmount() (errors only logged)."""
        ws = self.websockets.pop(id)
        for s in ws["peers"]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        ws["listener"].close()
        try:
            os.unlink(ws["socket"])
        except FileNotFoundError:
            pass
        if not unmount:
            return {}
        return self.ws_unmount(id)

    def ws_unmount(self, id):
        """The last step of a websocket's close: Proxy.Unmount(), whose error bmcweb only logs."""
        try:
            return {"unmounted": bool(self.call(f"{ROOT}/Proxy/{id}", f"{VM}.Proxy", "Unmount")[0])}
        except dbus.DBusException as e:
            return {"unmount_error": e.get_dbus_name()}

    # -- hostile callers: an fd on every kind of message -------------------------

    def flood(self, kind, count, path=None):
        """Sends `count` messages of `kind`, each carrying a unix fd; returns the reply or error names seen."""
        seen = {}
        target = path or f"{ROOT}/Legacy/{self.first_legacy()}"
        for _ in range(count):
            r, w = os.pipe()
            try:
                name = self.send_with_fd(kind, target, r)
            finally:
                os.close(r)
                os.close(w)
            seen[name] = seen.get(name, 0) + 1
        return seen

    def first_legacy(self):
        return sorted(p for p in self.walk() if p.startswith(ROOT + "/Legacy/"))[0].rsplit("/", 1)[1]

    def send_with_fd(self, kind, path, raw_fd):
        fd = dbus.types.UnixFd(raw_fd)  # each UnixFd holds its own duplicate
        specs = {
            "unknown-method": (path, f"{VM}.Legacy", "NoSuchMethod", "h", [fd]),
            "wrong-signature": (path, f"{VM}.Legacy", "Mount", "sh", ["https://x/y.iso", fd]),
            "get": (path, "org.freedesktop.DBus.Properties", "Get", "ssh", [f"{VM}.MountPoint", "ImageURL", fd]),
            "set": (path, "org.freedesktop.DBus.Properties", "Set", "ssv", [f"{VM}.MountPoint", "ImageURL", dbus.types.UnixFd(raw_fd, variant_level=1)]),
            "getall": (path, "org.freedesktop.DBus.Properties", "GetAll", "sh", [f"{VM}.MountPoint", fd]),
            "introspect": (path, "org.freedesktop.DBus.Introspectable", "Introspect", "h", [fd]),
            "ping": (path, "org.freedesktop.DBus.Peer", "Ping", "h", [fd]),
            "unknown-path": ("/no/such/object", f"{VM}.Legacy", "Mount", "sbh", ["https://x/y.iso", False, fd]),
            "mount-bad-url": (path, f"{VM}.Legacy", "Mount", "sbh", ["ftp://x/y.iso", False, fd]),
            "mount-variant-bad-url": (path, f"{VM}.Legacy", "Mount", "sbv", ["ftp://x/y.iso", False, dbus.types.UnixFd(raw_fd, variant_level=1)]),
            "mount-variant-string": (path, f"{VM}.Legacy", "Mount", "sbv", ["https://x/y.iso", False, dbus.String("fd", variant_level=1)]),
        }
        if kind == "signal":
            msg = dbus.lowlevel.SignalMessage(path, f"{VM}.Legacy", "Completion")
            msg.set_destination(SERVICE)
            msg.append(fd, signature="h")
            self.bus.send_message(msg)
            self.bus.flush()
            return "sent"
        dest_path, interface, member, signature, args = specs[kind]
        msg = dbus.lowlevel.MethodCallMessage(SERVICE, dest_path, interface, member)
        msg.append(*args, signature=signature)
        try:
            self.bus.send_message_with_reply_and_block(msg, TIMEOUT)
            return "reply"
        except dbus.DBusException as e:
            return e.get_dbus_name()


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    b = Bmcweb(sys.argv[1])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            reply = {"ok": getattr(b, op.replace("-", "_"))(**request)}
        except dbus.DBusException as e:
            reply = {"error": e.get_dbus_name(), "message": e.get_dbus_message()}
        except CallError as e:
            reply = {"error": e.name, "message": str(e)}
        except Exception as e:  # a broken request is reported, not fatal
            reply = {"error": "python." + type(e).__name__, "message": str(e)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
