// Exports server objects on a connection: org.freedesktop.DBus.Properties
// done right (read-only really read-only, values checked, no stack traces),
// and org.freedesktop.DBus.ObjectManager, which dbus-next lacks and bmcweb
// needs (it finds virtual media through GetManagedObjects).
import { Message, MessageType, Variant } from './dbus-next.js';
import { DBusError, errorForCaller, isDBusError, StandardError } from './errors.js';
import { journalLogger, type Logger } from './log.js';
import { ServerInterface, configureServer, setCurrentCall } from './server.js';
import { claimIncomingFds, closeFdsWhenSettled } from './incoming-fds.js';
import type { InterfaceSpec } from './spec.js';
import type { Codec } from './codec.js';
import type { Connection } from './connection.js';

const PROPERTIES = 'org.freedesktop.DBus.Properties';
const OBJECT_MANAGER = 'org.freedesktop.DBus.ObjectManager';

type WireProps = Record<string, Variant>;
type WireInterfaces = Record<string, WireProps>;

/** Passes an already-built wire value through (for ObjectManager's nested dicts). */
function raw(signature: string): Codec<any> {
  return { signature, toWire: (v) => v, fromWire: (w) => w };
}

const objectManagerSpec: InterfaceSpec = {
  name: OBJECT_MANAGER,
  properties: [],
  methods: [
    {
      name: 'GetManagedObjects',
      inArgs: [],
      outArgs: [{ name: 'object_paths_interfaces_and_properties', codec: raw('a{oa{sa{sv}}}') }],
      errors: [],
      noReply: false,
      deprecated: false,
      hidden: false,
      unprivileged: true,
    },
  ],
  signals: [
    { name: 'InterfacesAdded', args: [{ name: 'object_path', codec: raw('o') }, { name: 'interfaces_and_properties', codec: raw('a{sa{sv}}') }], deprecated: false, hidden: false },
    { name: 'InterfacesRemoved', args: [{ name: 'object_path', codec: raw('o') }, { name: 'interfaces', codec: raw('as') }], deprecated: false, hidden: false },
  ],
};

class ObjectManagerInterface extends ServerInterface {
  constructor(
    private readonly server: ObjectServer,
    private readonly path: string,
    log: Logger,
  ) {
    super(objectManagerSpec, { log });
  }
  GetManagedObjects(): Record<string, WireInterfaces> {
    return this.server.managedObjects(this.path);
  }
  announceAdded(path: string, interfaces: WireInterfaces): void {
    this.emitSignal('InterfacesAdded', [path, interfaces]);
  }
  announceRemoved(path: string, names: string[]): void {
    this.emitSignal('InterfacesRemoved', [path, names]);
  }
}
configureServer(ObjectManagerInterface, objectManagerSpec);

function isBelow(path: string, manager: string): boolean {
  return manager === '/' ? path !== '/' : path.startsWith(manager + '/');
}

/**
 * What ObjectServer.add takes: an instance of a generated server class. Typed
 * structurally, so that a class overriding onPropertySet with its own
 * property types (generic or not) is still accepted.
 */
export interface ServedInterface {
  readonly $spec: InterfaceSpec;
  flushPropertiesChanged(): void;
  onPropertySet(name: never, value: never): void | Promise<void>;
}

export class ObjectServer {
  readonly #objects = new Map<string, ServerInterface[]>();
  readonly #managers = new Map<string, ObjectManagerInterface>();
  readonly #log: Logger;

  constructor(
    readonly connection: Connection,
    options: { log?: Logger } = {},
  ) {
    this.#log = options.log ?? journalLogger();
    connection.bus.addMethodHandler((msg: Message) => this.#dispatch(msg));
  }

  /** Serves org.freedesktop.DBus.ObjectManager at `path` for every object below it. */
  addManager(path: string): void {
    if (this.#managers.has(path)) return;
    const manager = new ObjectManagerInterface(this, path, this.#log);
    this.#managers.set(path, manager);
    this.connection.bus.export(path, manager);
  }

  /** Exports `interfaces` (instances of generated server classes) at `path` and announces them with InterfacesAdded. */
  add(path: string, ...servers: ServedInterface[]): void {
    const interfaces = servers as unknown as ServerInterface[];
    const existing = this.#objects.get(path) ?? [];
    for (const iface of interfaces) {
      if (existing.some((e) => e.$spec.name === iface.$spec.name)) throw new Error(`${path} already has ${iface.$spec.name}`);
      this.connection.bus.export(path, iface);
    }
    this.#objects.set(path, [...existing, ...interfaces]);
    const added: WireInterfaces = {};
    for (const iface of interfaces) added[iface.$spec.name] = this.#wireProperties(iface, false);
    this.#managerOf(path)?.announceAdded(path, added);
  }

  /** Removes the object at `path` (or only `names` of its interfaces) and announces it. */
  remove(path: string, names?: string[]): void {
    const existing = this.#objects.get(path);
    if (!existing) return;
    const going = names ? existing.filter((i) => names.includes(i.$spec.name)) : existing;
    for (const iface of going) {
      iface.flushPropertiesChanged();
      this.connection.bus.unexport(path, iface);
    }
    const staying = existing.filter((i) => !going.includes(i));
    if (staying.length) this.#objects.set(path, staying);
    else this.#objects.delete(path);
    this.#managerOf(path)?.announceRemoved(path, going.map((i) => i.$spec.name));
  }

  /** GetManagedObjects' answer for the manager at `managerPath`. */
  managedObjects(managerPath: string): Record<string, WireInterfaces> {
    const result: Record<string, WireInterfaces> = {};
    for (const [path, interfaces] of this.#objects) {
      if (!isBelow(path, managerPath)) continue;
      const entry: WireInterfaces = {};
      for (const iface of interfaces) entry[iface.$spec.name] = this.#wireProperties(iface, false);
      result[path] = entry;
    }
    return result;
  }

  #managerOf(path: string): ObjectManagerInterface | undefined {
    let best: string | undefined;
    for (const m of this.#managers.keys()) if (isBelow(path, m) && (!best || m.length > best.length)) best = m;
    return best ? this.#managers.get(best) : undefined;
  }

  #wireProperties(iface: ServerInterface, includeExplicit: boolean): WireProps {
    const out: WireProps = {};
    for (const p of iface.$spec.properties) {
      // As sd-bus: hidden properties never, explicit ones only when asked for by name.
      if (p.hidden || (p.explicit && !includeExplicit)) continue;
      const value = (iface as unknown as Record<string, unknown>)[p.name];
      out[p.name] = new Variant(p.codec.signature, p.codec.toWire(value, `${iface.$spec.name}.${p.name}`));
    }
    return out;
  }

  /** Runs before dbus-next's own dispatch; returns true when the call was answered here. */
  #dispatch(msg: Message): boolean {
    if (msg.interface !== PROPERTIES) {
      // For the generated method wrapper dbus-next calls next, which takes it.
      setCurrentCall(msg);
      return false;
    }
    if (!this.#objects.has(msg.path)) {
      const exported = (this.connection.bus as unknown as { _serviceObjects: Record<string, unknown> })._serviceObjects;
      if (exported[msg.path]) return false; // dbus-next's own objects (the ObjectManager itself)
      this.connection.bus.send(Message.newError(msg as unknown as string, StandardError.UnknownObject, `Unknown object '${msg.path}'`));
      return true;
    }
    // Fds in a Set's value live until the call is answered (incoming-fds.ts).
    void closeFdsWhenSettled(claimIncomingFds(), this.#properties(msg));
    return true;
  }

  async #properties(msg: Message): Promise<void> {
    const bus = this.connection.bus;
    try {
      const body = await this.#answerProperties(msg);
      bus.send(Message.newMethodReturn(msg, body.signature, body.values));
    } catch (e) {
      // Errors raised below were already checked against the property's
      // declared errors; anything else is a bug and becomes InternalFailure.
      const err = isDBusError(e) ? e : errorForCaller(e, [], (m) => this.#log.error(`${msg.path} ${msg.member}: ${m}`));
      bus.send(Message.newError(msg as unknown as string, err.type, err.text));
    }
  }

  async #answerProperties(msg: Message): Promise<{ signature: string; values: unknown[] }> {
    const sig = msg.signature ?? '';
    const body = msg.body as unknown[];
    if (msg.member === 'GetAll' && sig === 's') {
      const iface = this.#interface(msg.path, body[0] as string);
      return { signature: 'a{sv}', values: [this.#wireProperties(iface, false)] };
    }
    if (msg.member === 'Get' && sig === 'ss') {
      const iface = this.#interface(msg.path, body[0] as string);
      const p = this.#property(iface, body[1] as string);
      try {
        const value = (iface as unknown as Record<string, unknown>)[p.name];
        return { signature: 'v', values: [new Variant(p.codec.signature, p.codec.toWire(value, `${iface.$spec.name}.${p.name}`))] };
      } catch (e) {
        throw errorForCaller(e, p.errors, (m) => this.#log.error(`${iface.$spec.name}.${p.name} get: ${m}`));
      }
    }
    if (msg.member === 'Set' && sig === 'ssv') {
      const iface = this.#interface(msg.path, body[0] as string);
      const p = this.#property(iface, body[1] as string);
      if (!p.writable) throw new DBusError(StandardError.PropertyReadOnly, `Property '${p.name}' is not writable`);
      const wire = body[2] as Variant;
      if (wire.signature !== p.codec.signature) {
        throw new DBusError(StandardError.InvalidArgs, `Property '${p.name}' has type '${p.codec.signature}', got '${wire.signature}'`);
      }
      const value = p.codec.fromWire(wire.value);
      try {
        await iface.onPropertySet(p.name, value);
        (iface as unknown as Record<string, unknown>)[p.name] = value;
      } catch (e) {
        throw errorForCaller(e, p.errors, (m) => this.#log.error(`${iface.$spec.name}.${p.name} set: ${m}`));
      }
      iface.flushPropertiesChanged();
      return { signature: '', values: [] };
    }
    throw new DBusError('org.freedesktop.DBus.Error.UnknownMethod', `Unknown method ${msg.member} with signature '${sig}' on ${PROPERTIES}`);
  }

  #interface(path: string, name: string): ServerInterface {
    const iface = this.#objects.get(path)?.find((i) => i.$spec.name === name);
    if (!iface) throw new DBusError(StandardError.UnknownInterface, `Object '${path}' has no interface '${name}'`);
    return iface;
  }

  #property(iface: ServerInterface, name: string) {
    const p = iface.$spec.properties.find((q) => q.name === name);
    if (!p) throw new DBusError(StandardError.UnknownProperty, `Interface '${iface.$spec.name}' has no property '${name}'`);
    return p;
  }
}

