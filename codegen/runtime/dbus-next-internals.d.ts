// dbus-next ships no types for the internals the runtime patches.
declare module 'dbus-next/lib/marshallers.js' {
  const marshallers: unknown;
  export default marshallers;
}
declare module 'dbus-next/lib/align.js' {
  const align: unknown;
  export default align;
}
declare module 'dbus-next/lib/message.js' {
  const message: unknown;
  export default message;
}
declare module 'dbus-next/lib/dbus-buffer.js' {
  const DBusBuffer: unknown;
  export default DBusBuffer;
}
declare module 'dbus-next/lib/constants.js' {
  const constants: unknown;
  export default constants;
}
declare module 'dbus-next/lib/signature.js' {
  const signature: unknown;
  export default signature;
}
declare module 'dbus-next/lib/handshake.js' {
  const handshake: unknown;
  export default handshake;
}
declare module 'dbus-next/lib/marshall-compat.js' {
  const marshallCompat: unknown;
  export default marshallCompat;
}
declare module 'dbus-next/lib/bus.js' {
  const MessageBus: unknown;
  export default MessageBus;
}
