// Base of every generated client: typed calls with timeouts, typed property
// access and typed signal / PropertiesChanged subscriptions. It talks to the
// bus with known signatures, so no introspection round trip is needed.
import { Variant } from './dbus-next.js';
import { decodeArgs, encodeArgs, type Codec } from './codec.js';
import { DBusError, StandardError } from './errors.js';
import { closeFds, fdsOfReply } from './incoming-fds.js';
import { signatureOf, type InterfaceSpec, type MethodSpec, type PropertySpec, type SignalSpec } from './spec.js';
import type { Connection, Subscription } from './connection.js';

export interface CallOptions {
  /** Overrides the connection's default timeout for this call (ms). */
  timeoutMs?: number;
}

const PROPERTIES = 'org.freedesktop.DBus.Properties';

interface PreparedMethod {
  spec: MethodSpec;
  where: string;
  inCodecs: Codec<any>[];
  inNames: string[];
  outCodecs: Codec<any>[];
  inSignature: string;
  outSignature: string;
}
const prepared = new WeakMap<InterfaceSpec, Map<string, PreparedMethod>>();
function prepare(spec: InterfaceSpec): Map<string, PreparedMethod> {
  let map = prepared.get(spec);
  if (!map) {
    map = new Map(spec.methods.map((m) => [m.name, { spec: m, where: `${spec.name}.${m.name}`, inCodecs: m.inArgs.map((a) => a.codec), inNames: m.inArgs.map((a) => a.name), outCodecs: m.outArgs.map((a) => a.codec), inSignature: signatureOf(m.inArgs), outSignature: signatureOf(m.outArgs) }]));
    prepared.set(spec, map);
  }
  return map;
}

/**
 * Base of every generated client. `Props` are the property types a client
 * writes (known enum values only); `Received` what it reads (enum values the
 * YAML does not know arrive as UnknownEnumValue); `Writable` the names of the
 * properties the YAML lets clients Set (not const, not readonly).
 */
export class ClientInterface<
  Props extends object = Record<string, unknown>,
  Received extends { [K in keyof Props]: unknown } = Props,
  Writable extends keyof Props & string = keyof Props & string,
> {
  constructor(
    readonly $spec: InterfaceSpec,
    readonly connection: Connection,
    /** Bus name of the service, e.g. `xyz.openbmc_project.VirtualMedia`. */
    readonly service: string,
    readonly path: string,
  ) {}

  /** Calls a method by name with typed arguments; resolves with the typed result. */
  protected async callMethod(name: string, args: readonly unknown[], options: CallOptions = {}): Promise<unknown> {
    const p = prepare(this.$spec).get(name);
    if (!p) throw new Error(`${this.$spec.name} has no method ${name}`);
    const where = p.where;
    const body = encodeArgs(p.inCodecs, p.inNames, args, where);
    const reply = await this.connection.call({
      destination: this.service,
      path: this.path,
      interface: this.$spec.name,
      member: name,
      signature: p.inSignature,
      body,
      replySignature: p.outSignature,
      noReply: p.spec.noReply,
      timeoutMs: options.timeoutMs,
    });
    if (!reply || p.outCodecs.length === 0) return undefined;
    if ((reply.signature ?? '') !== p.outSignature) {
      closeFds(fdsOfReply(reply));
      throw new DBusError(StandardError.InvalidArgs, `${where} replied with signature '${reply.signature}', expected '${p.outSignature}'`);
    }
    const values = decodeArgs(p.outCodecs, reply.body as unknown[], 'keep');
    return values.length === 1 ? values[0] : values;
  }

  /** Reads one property. */
  async get<K extends keyof Props & string>(name: K, options: CallOptions = {}): Promise<Received[K]> {
    const p = this.#property(name);
    const reply = await this.#properties('Get', 'ss', [this.$spec.name, name], options, p.codec.signature);
    const v = reply.body[0] as Variant;
    return this.#decodeProperty(p, v) as Received[K];
  }

  /** Writes one property (only properties the YAML makes writable: the others are not accepted by the type). */
  async set<K extends Writable>(name: K, value: Props[K], options: CallOptions = {}): Promise<void> {
    const p = this.#property(name);
    const wire = new Variant(p.codec.signature, p.codec.toWire(value, `${this.$spec.name}.${name}`));
    await this.#properties('Set', 'ssv', [this.$spec.name, name, wire], options);
  }

  /** Reads every property the service lists (explicit ones are left out, as with GetAll). */
  async getAll(options: CallOptions = {}): Promise<Partial<Received>> {
    const reply = await this.#properties('GetAll', 's', [this.$spec.name], options);
    return this.decodeProperties(reply.body[0] as Record<string, Variant>);
  }

  /** Typed PropertiesChanged for this interface on this object. */
  async onPropertiesChanged(handler: (changed: Partial<Received>, invalidated: (keyof Props & string)[]) => void): Promise<Subscription> {
    return this.connection.subscribe({ sender: this.service, path: this.path, interface: PROPERTIES, member: 'PropertiesChanged' }, (msg) => {
      const [iface, changed, invalidated] = msg.body as [string, Record<string, Variant>, string[]];
      if (iface !== this.$spec.name) return;
      handler(this.decodeProperties(changed), invalidated.filter((n) => this.$spec.properties.some((p) => p.name === n)) as (keyof Props & string)[]);
    });
  }

  /** Subscribes to a signal by name; the handler gets the typed arguments. */
  protected async subscribeSignal(name: string, handler: (...args: any[]) => void): Promise<Subscription> {
    const s = this.#signal(name);
    const codecs = s.args.map((a) => a.codec);
    return this.connection.subscribe({ sender: this.service, path: this.path, interface: this.$spec.name, member: name }, (msg) => {
      if ((msg.signature ?? '') !== signatureOf(s.args)) return;
      handler(...decodeArgs(codecs, msg.body as unknown[], 'keep'));
    });
  }

  /**
   * Decodes a wire property map (from GetAll, PropertiesChanged,
   * GetManagedObjects). Names the YAML does not know are dropped; enum values
   * it does not know arrive as UnknownEnumValue. A property whose value does
   * not decode at all (another D-Bus type than the YAML's) is left out with a
   * process warning naming it: the other properties still arrive.
   */
  decodeProperties(wire: Record<string, Variant>): Partial<Received> {
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(wire)) {
      const p = this.$spec.properties.find((q) => q.name === name);
      if (!p) continue;
      try {
        out[name] = this.#decodeProperty(p, v);
      } catch (e) {
        process.emitWarning(`${this.service} ${this.path}: ${(e as Error).message}; property left out`);
      }
    }
    return out as Partial<Received>;
  }

  #decodeProperty(p: PropertySpec, v: Variant): unknown {
    if (v.signature !== p.codec.signature) {
      throw new DBusError(StandardError.InvalidArgs, `${this.$spec.name}.${p.name} has type '${v.signature}', expected '${p.codec.signature}'`);
    }
    return p.codec.fromWire(v.value, 'keep');
  }

  async #properties(member: string, signature: string, body: unknown[], options: CallOptions, valueSignature?: string) {
    const reply = await this.connection.call({
      destination: this.service,
      path: this.path,
      interface: PROPERTIES,
      member,
      signature,
      body,
      ...(valueSignature !== undefined ? { replySignature: valueSignature } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    return reply!;
  }

  #method(name: string): MethodSpec {
    const m = this.$spec.methods.find((x) => x.name === name);
    if (!m) throw new Error(`${this.$spec.name} has no method ${name}`);
    return m;
  }

  #property(name: string): PropertySpec {
    const p = this.$spec.properties.find((x) => x.name === name);
    if (!p) throw new TypeError(`${this.$spec.name} has no property '${name}'`);
    return p;
  }

  #signal(name: string): SignalSpec {
    const s = this.$spec.signals.find((x) => x.name === name);
    if (!s) throw new Error(`${this.$spec.name} has no signal ${name}`);
    return s;
  }
}
