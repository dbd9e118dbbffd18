// dbus-next's own sessionBus()/systemBus() try require('usocket') for unix
// addresses and fall back to a plain net socket when it throws: that is what
// this stand-in makes them do. Our runtime never goes through that path
// (codegen/runtime/transport.ts).
throw new Error('usocket is not installed: meta-virtual-media passes unix fds with its own addon (openbmc-dbus-unix-fd)');
