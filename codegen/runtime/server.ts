// Base of every generated server class. Methods are wired into dbus-next with
// configureMembers (no decorators); properties live here, typed, and are
// served by ObjectServer's Properties handler, not dbus-next's (whose Set
// changes read-only values and leaks stack traces).
import { BaseInterface, Message } from './dbus-next.js';
import { decodeArgs, encodeArgs } from './codec.js';
import { errorForCaller } from './errors.js';
import { claimIncomingFds, closeFds, closeFdsWhenSettled } from './incoming-fds.js';
import { introspectionOf } from './introspection.js';
import { journalLogger, type Logger } from './log.js';
import { sameValue } from './equality.js';
import { signatureOf, type InterfaceSpec, type MethodSpec, type PropertySpec } from './spec.js';
import { Variant } from './dbus-next.js';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Unique bus name of the caller. */
  readonly sender: string;
  readonly path: string;
  readonly message: Message;
}

type Emitter = { emit(event: string, ...args: unknown[]): boolean };

let currentCall: Message | undefined;
/**
 * Set by ObjectServer just before dbus-next's synchronous dispatch of a
 * method call; the generated method wrapper it reaches takes it (and clears
 * it, so no message outlives its call here).
 */
export function setCurrentCall(msg: Message | undefined): void {
  currentCall = msg;
}

export interface ServerOptions<Props> {
  /** Initial property values; the rest start at their YAML default or zero value. */
  initial?: Partial<Props>;
  log?: Logger;
}

export class ServerInterface<Props extends object = Record<string, unknown>> extends BaseInterface {
  readonly $spec: InterfaceSpec;
  /** Set by dbus-next's Interface constructor; dbus-next listens on it for signals. */
  declare readonly $emitter: Emitter;
  readonly log: Logger;
  readonly #values = new Map<string, unknown>();
  readonly #changed = new Set<string>();
  readonly #invalidated = new Set<string>();
  #flushScheduled = false;

  constructor(spec: InterfaceSpec, options: ServerOptions<Props> = {}) {
    super(spec.name);
    this.$spec = spec;
    this.log = options.log ?? journalLogger();
    const initial = (options.initial ?? {}) as Record<string, unknown>;
    for (const p of spec.properties) {
      this.#values.set(p.name, p.name in initial ? initial[p.name] : p.initial());
    }
  }

  /** The current typed value of a property. */
  getProperty<K extends keyof Props & string>(name: K): Props[K] {
    return this.#values.get(name) as Props[K];
  }

  /**
   * Changes a property as the service (any flag allows this). Announces the
   * change with PropertiesChanged, batched with the other changes made in the
   * same turn, unless the value is unchanged or the property is const/explicit.
   * Returns whether the value changed.
   */
  setProperty<K extends keyof Props & string>(name: K, value: Props[K]): boolean {
    const spec = this.#propertySpec(name);
    spec.codec.toWire(value, `${this.$spec.name}.${name}`);
    if (sameValue(this.#values.get(name), value)) return false;
    this.#values.set(name, value);
    if (spec.emits === 'true') this.#changed.add(name);
    else if (spec.emits === 'invalidates') this.#invalidated.add(name);
    else return true;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.flushPropertiesChanged());
    }
    return true;
  }

  /** Sends the pending PropertiesChanged now (one signal for all pending changes). */
  flushPropertiesChanged(): void {
    this.#flushScheduled = false;
    if (this.#changed.size === 0 && this.#invalidated.size === 0) return;
    const changed: Record<string, unknown> = {};
    for (const name of this.#changed) {
      const spec = this.#propertySpec(name);
      changed[name] = new Variant(spec.codec.signature, spec.codec.toWire(this.#values.get(name), name));
    }
    const invalidated = [...this.#invalidated];
    this.#changed.clear();
    this.#invalidated.clear();
    this.$emitter.emit('properties-changed', changed, invalidated);
  }

  /**
   * Called before a D-Bus client's Set is applied, with the decoded value.
   * Override to validate or to act on the change; throw a declared error to
   * reject it (the value then stays as it was).
   */
  onPropertySet<K extends keyof Props & string>(_name: K, _value: Props[K]): void | Promise<void> {}

  /** Emits a signal with typed arguments. */
  protected emitSignal(name: string, args: readonly unknown[]): void {
    const spec = this.$spec.signals.find((s) => s.name === name);
    if (!spec) throw new Error(`${this.$spec.name} has no signal ${name}`);
    this.flushPropertiesChanged();
    const where = `${this.$spec.name}.${name}`;
    const body = encodeArgs(spec.args.map((a) => a.codec), spec.args.map((a) => a.name), args, where);
    // dbus-next's object wraps a single-argument signal itself.
    const options = { name, signature: signatureOf(spec.args), signatureTree: spec.args };
    this.$emitter.emit('signal', options, body.length === 1 ? body[0] : body.length === 0 ? undefined : body);
  }

  /** Introspection with argument names and sd-bus annotations. */
  $introspect(): Record<string, unknown> {
    return introspectionOf(this.$spec);
  }

  #propertySpec(name: string): PropertySpec {
    const spec = this.$spec.properties.find((p) => p.name === name);
    if (!spec) throw new Error(`${this.$spec.name} has no property ${name}`);
    return spec;
  }
}

type Handler = (this: ServerInterface, ...args: unknown[]) => unknown;

/** The key under which dbus-next finds the wire-level function for a method overload. */
function dispatchKey(name: string, inSignature: string): string {
  return `$dbus$${name}$${inSignature}`;
}

/**
 * Builds the dbus-next-facing function for one method: decode arguments,
 * call the typed handler, encode the reply, send pending PropertiesChanged
 * before the reply, and turn anything undeclared into InternalFailure.
 */
function wireFunction(spec: MethodSpec, interfaceName: string, handler: (self: ServerInterface, args: unknown[], ctx: CallContext) => unknown) {
  const inSignature = signatureOf(spec.inArgs);
  const inCodecs = spec.inArgs.map((a) => a.codec);
  const outCodecs = spec.outArgs.map((a) => a.codec);
  const outNames = spec.outArgs.map((a) => a.name);
  const where = `${interfaceName}.${spec.name} reply`;
  const finish = (self: ServerInterface, result: unknown) => {
    const values = outCodecs.length === 1 ? [result] : outCodecs.length === 0 ? [] : (result as unknown[]);
    const body = encodeArgs(outCodecs, outNames, values ?? [], where);
    self.flushPropertiesChanged();
    return outCodecs.length === 1 ? body[0] : outCodecs.length === 0 ? undefined : body;
  };
  const failed = (self: ServerInterface, e: unknown) => {
    self.flushPropertiesChanged();
    return errorForCaller(e, spec.errors, (m) => self.log.error(`${interfaceName}.${spec.name}: ${m}`));
  };
  return function (this: ServerInterface, ...wire: unknown[]) {
    const msg = currentCall!;
    currentCall = undefined;
    const ctx: CallContext = { sender: msg?.sender ?? '', path: msg?.path ?? '', message: msg };
    // The call's fds stay open until it is answered, then they are closed
    // (incoming-fds.ts): a handler keeps one only by duplicating it.
    const fds = claimIncomingFds();
    let result: unknown;
    try {
      result = handler(this, decodeArgs(inCodecs, wire), ctx);
    } catch (e) {
      closeFds(fds);
      return Promise.reject(failed(this, e));
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return closeFdsWhenSettled(
        fds,
        (result as Promise<unknown>).then(
          (r) => finish(this, r),
          (e) => Promise.reject(failed(this, e)),
        ),
      );
    }
    try {
      return finish(this, result);
    } catch (e) {
      return Promise.reject(failed(this, e));
    } finally {
      closeFds(fds);
    }
  };
}

interface MethodOptions {
  name: string;
  inSignature: string;
  outSignature: string;
}

/**
 * Wires a generated server class into dbus-next: each YAML method calls the
 * typed handler of the same name on the instance (`this.Mount(...)`), which
 * the implementer provides by extending the class.
 */
export function configureServer(klass: { prototype: object; configureMembers(members: never): void }, spec: InterfaceSpec): void {
  const methods: Record<string, MethodOptions> = {};
  for (const m of spec.methods) {
    const key = dispatchKey(m.name, signatureOf(m.inArgs));
    (klass.prototype as unknown as Record<string, unknown>)[key] = wireFunction(m, spec.name, (self, args, ctx) => {
      const fn = (self as unknown as Record<string, Handler>)[m.name];
      if (typeof fn !== 'function') throw new Error(`${spec.name}.${m.name} is not implemented`);
      args.push(ctx); // decodeArgs' fresh array: no spread copy
      return fn.apply(self, args);
    });
    // Always answer (as sd-bus does) unless the caller asked for no reply,
    // which Connection handles; the YAML's no_reply is only an annotation.
    methods[key] = { name: m.name, inSignature: signatureOf(m.inArgs), outSignature: signatureOf(m.outArgs) };
  }
  (klass.configureMembers as (m: unknown) => void).call(klass, { methods });
}

/**
 * Adds a second wire form of a method (same D-Bus name, another input
 * signature), served by `handler`. dbus-next matches calls by name and
 * signature, so both forms work; introspection keeps showing the YAML's.
 * Example: bmcweb calls Legacy.Mount with `sbh` where the YAML says `sbv`.
 */
export function addMethodOverload(
  klass: { prototype: object },
  spec: MethodSpec,
  interfaceName: string,
  handler: (self: ServerInterface, args: unknown[], ctx: CallContext) => unknown,
): void {
  const proto = klass.prototype as unknown as { $methods: Record<string, unknown> } & Record<string, unknown>;
  const inSignature = signatureOf(spec.inArgs);
  const key = dispatchKey(spec.name, inSignature);
  const fn = wireFunction(spec, interfaceName, handler);
  proto[key] = fn;
  // Same shape configureMembers gives its entries; the trees are only counted.
  proto.$methods = { ...proto.$methods };
  proto.$methods[key] = {
    name: spec.name,
    inSignature,
    outSignature: signatureOf(spec.outArgs),
    inSignatureTree: spec.inArgs,
    outSignatureTree: spec.outArgs,
    disabled: false,
    noReply: false,
    fn,
  };
}
