// Client side of org.freedesktop.DBus.ObjectManager: what bmcweb does to find
// every object of a service below a path, in one call.
import type { Variant } from './dbus-next.js';
import type { CallOptions } from './client.js';
import type { Connection } from './connection.js';

/** path → interface name → property name → wire variant (decode with a generated client's decodeProperties). */
export type ManagedObjects = Map<string, Map<string, Record<string, Variant>>>;

export async function getManagedObjects(connection: Connection, service: string, path: string, options: CallOptions = {}): Promise<ManagedObjects> {
  const reply = await connection.call({
    destination: service,
    path,
    interface: 'org.freedesktop.DBus.ObjectManager',
    member: 'GetManagedObjects',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const wire = reply!.body[0] as Record<string, Record<string, Record<string, Variant>>>;
  return new Map(Object.entries(wire).map(([p, ifaces]) => [p, new Map(Object.entries(ifaces))]));
}
