// dbus-next ships no types for the internals the runtime patches.
declare module 'dbus-next/lib/marshallers.js' {
  const marshallers: unknown;
  export default marshallers;
}
declare module 'dbus-next/lib/align.js' {
  const align: unknown;
  export default align;
}
