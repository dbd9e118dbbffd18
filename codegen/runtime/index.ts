// The runtime every generated binding imports: small, on top of dbus-next.
export * from './codec.js';
export { Connection, type ConnectOptions, type CallRequest, type SignalMatch, type Subscription } from './connection.js';
export { ServerInterface, configureServer, addMethodOverload, type CallContext, type ServerOptions } from './server.js';
export { ObjectServer, type ServedInterface } from './object-server.js';
export { ClientInterface, type CallOptions } from './client.js';
export { getManagedObjects, type ManagedObjects } from './managed-objects.js';
export {
  DBusError,
  TypedDBusError,
  InternalFailureError,
  InvalidEnumStringError,
  StandardError,
  registerErrors,
  reviveError,
  errorForCaller,
} from './errors.js';
export type { InterfaceSpec, MethodSpec, PropertySpec, SignalSpec, ArgSpec, EmitsChanged } from './spec.js';
export { journalLogger, silentLogger, type Logger } from './log.js';
export { Variant } from './dbus-next.js';
